// connection.hpp — the user's handle on a tcp_utcp connection: TcpConnection over a shared
// Socket. Each call runs one core rule through Engine::run_core. (Listeners are the front
// half's: tcp_common/listener_handle.hpp.)
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

}  // namespace netloom::utcp
