// connection.hpp — the user's handles on tcp_utcp: TcpConnection over a shared Socket, and
// TcpListener over a ListenerState. Each call runs one core rule through Engine::run_core.
//
// Contract: as tcp.hpp. A handle keeps its Socket alive after the engine forgot it (so state()
// and error() still answer); destroying a handle closes the connection (close_1: FIN, or RST
// if unread data remains) unless the user closed or aborted it already.
#pragma once

#include <memory>

#include "shell/engine.hpp"

namespace netloom::utcp {

class Connection final : public TcpConnection {
public:
    Connection(Engine& engine, std::shared_ptr<Socket> socket);
    ~Connection() override;

    TcpEndpoint local() const noexcept override;
    TcpEndpoint remote() const noexcept override;
    TcpState state() const noexcept override { return socket_->tcb.state; }
    TcpError error() const noexcept override { return socket_->tcb.error; }
    std::size_t send(std::span<const std::uint8_t> data) override;
    std::size_t send_space() const noexcept override;
    std::size_t recv(std::span<std::uint8_t> out) override;
    std::size_t readable_bytes() const noexcept override;
    bool eof() const noexcept override { return utcp::eof(socket_->tcb); }
    void shutdown_write() override;
    void close() override;
    void abort() override;
    void set_nodelay(bool on) override;
    void on_event(std::function<void(std::uint32_t events)> callback) override;
    TcpInfo info() const override { return socket_->tcb.info(); }

private:
    Engine& engine_;
    std::shared_ptr<Socket> socket_;
    bool closed_by_user_ = false;
};

class ListenerHandle final : public TcpListener {
public:
    ListenerHandle(Engine& engine, std::unique_ptr<ListenerState> state);
    ~ListenerHandle() override;
    std::uint16_t port() const noexcept override { return state_->core.port; }
    std::unique_ptr<TcpConnection> accept() override;
    void on_acceptable(std::function<void()> callback) override;

private:
    Engine& engine_;
    std::unique_ptr<ListenerState> state_;
};

}  // namespace netloom::utcp
