// handles.hpp — the user's handle on a tcp_classic connection: Connection, a TcpConnection over
// a shared Pcb. (Listeners are the front half's: tcp_common/listener_handle.hpp.)
//
// Contract: as tcp.hpp. A Connection keeps its Pcb alive after the engine forgot it, so state()
// and error() still answer and unread bytes can still be read; destroying it closes the
// connection (FIN, or RST with unread data) unless the user closed or aborted it already.
// Handles may outlive the engine (it is destroyed with connections open): its connections are
// then CLOSED with `aborted`, and every handle call is a harmless no-op on them.
#pragma once

#include <memory>

#include "engine.hpp"

namespace netloom::classic {

class Connection final : public TcpConnection {
public:
    Connection(Engine& engine, std::shared_ptr<Pcb> pcb);
    ~Connection() override;

    TcpEndpoint local() const noexcept override;
    TcpEndpoint remote() const noexcept override;
    TcpState state() const noexcept override { return pcb_->state(); }
    TcpError error() const noexcept override { return pcb_->error(); }
    std::size_t send(std::span<const std::uint8_t> data) override;
    std::size_t send_space() const noexcept override { return pcb_->send_space(); }
    std::size_t recv(std::span<std::uint8_t> out) override;
    std::size_t readable_bytes() const noexcept override { return pcb_->readable_bytes(); }
    bool eof() const noexcept override { return pcb_->eof(); }
    void shutdown_write() override;
    void close() override;
    void abort() override;
    void set_nodelay(bool on) override { pcb_->set_nodelay(on); }
    void on_event(std::function<void(std::uint32_t events)> callback) override;
    TcpInfo info() const override { return pcb_->info(); }

private:
    /// The engine's memory total follows the Pcb's footprint after a user call.
    void recharge() {
        if (*engine_alive_) engine_.footprint_changed(*pcb_);
    }

    Engine& engine_;
    std::shared_ptr<bool> engine_alive_;  ///< false once the engine is destroyed
    std::shared_ptr<Pcb> pcb_;
    bool closed_by_user_ = false;
};

}  // namespace netloom::classic
