// handles.cpp — the user's connection handle.
#include "handles.hpp"

#include "netloom/tcp_common/readiness.hpp"

namespace netloom::classic {

Connection::Connection(Engine& engine, std::shared_ptr<Pcb> pcb)
    : engine_(engine), engine_alive_(engine.alive_flag()), pcb_(std::move(pcb)) {
    pcb_->user_attached = true;
}

Connection::~Connection() {
    pcb_->user_attached = false;
    pcb_->on_event = nullptr;
    if (!closed_by_user_) {
        pcb_->close();
        recharge();
    }
}

TcpEndpoint Connection::local() const noexcept {
    return {pcb_->tuple().local_address, pcb_->tuple().local_port};
}

TcpEndpoint Connection::remote() const noexcept {
    return {pcb_->tuple().remote_address, pcb_->tuple().remote_port};
}

std::size_t Connection::send(std::span<const std::uint8_t> data) {
    const std::size_t taken = pcb_->send(data);
    if (taken > 0) recharge();
    return taken;
}

std::size_t Connection::recv(std::span<std::uint8_t> out) {
    const std::size_t n = pcb_->recv(out);
    if (n > 0) recharge();
    return n;
}

void Connection::shutdown_write() {
    pcb_->shutdown_write();
    recharge();
}

void Connection::close() {
    closed_by_user_ = true;
    pcb_->close();
    recharge();
}

void Connection::abort() {
    closed_by_user_ = true;
    pcb_->abort();
    recharge();
}

void Connection::on_event(std::function<void(std::uint32_t events)> callback) {
    pcb_->on_event = std::move(callback);
    if (!pcb_->on_event || !*engine_alive_) return;
    // Report the current readiness once, so a callback set late misses nothing.
    const std::uint32_t events = tcp::current_readiness(
        {pcb_->state(), pcb_->error(), pcb_->readable_bytes(), pcb_->eof(), pcb_->send_space()});
    if (events) engine_.post_events(*pcb_, events);
}

}  // namespace netloom::classic
