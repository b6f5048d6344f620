// connection.cpp — user calls on tcp_utcp connections and listeners.
#include "shell/connection.hpp"

#include "netloom/tcp_common/readiness.hpp"

namespace netloom::utcp {

Connection::Connection(Engine& engine, std::shared_ptr<Socket> socket)
    : engine_(engine), socket_(std::move(socket)) {
    socket_->user_attached = true;
}

Connection::~Connection() {
    socket_->user_attached = false;
    socket_->on_event = nullptr;
    const TcpState state = socket_->tcb.state;
    if (!closed_by_user_ && state != TcpState::closed && state != TcpState::time_wait) {
        const Time now = engine_.now();
        engine_.run_core(socket_, [&](Tcb& tcb, Outputs& out) { close_1(tcb, now, out); });
    }
}

TcpEndpoint Connection::local() const noexcept {
    return {socket_->tcb.tuple.local_address, socket_->tcb.tuple.local_port};
}

TcpEndpoint Connection::remote() const noexcept {
    return {socket_->tcb.tuple.remote_address, socket_->tcb.tuple.remote_port};
}

std::size_t Connection::send(std::span<const std::uint8_t> data) {
    if (data.empty() || !socket_->in_table) return 0;
    if (engine_.memory_level() == tcp::MemoryLevel::hard) {
        engine_.wait_for_memory(socket_);  // writable when memory is back (memory_budget.hpp)
        return 0;
    }
    const Time now = engine_.now();
    return engine_.run_core(socket_,
                            [&](Tcb& tcb, Outputs& out) { return send_1(tcb, data, now, out); });
}

std::size_t Connection::send_space() const noexcept {
    const std::size_t space = utcp::send_space(socket_->tcb);
    if (space == 0 || !socket_->in_table || engine_.memory_level() != tcp::MemoryLevel::hard)
        return space;
    engine_.wait_for_memory(socket_);
    return 0;
}

std::size_t Connection::recv(std::span<std::uint8_t> buffer) {
    if (buffer.empty() || readable_bytes() == 0) return 0;
    const Time now = engine_.now();
    if (!socket_->in_table) {  // closed: no window to update, just hand out what is left
        Outputs ignored;
        return recv_1(socket_->tcb, buffer, now, ignored);
    }
    return engine_.run_core(socket_,
                            [&](Tcb& tcb, Outputs& out) { return recv_1(tcb, buffer, now, out); });
}

std::size_t Connection::readable_bytes() const noexcept {
    return utcp::readable_bytes(socket_->tcb);
}

void Connection::shutdown_write() {
    if (!socket_->in_table) return;
    const Time now = engine_.now();
    engine_.run_core(socket_, [&](Tcb& tcb, Outputs& out) { shutdown_1(tcb, now, out); });
}

void Connection::close() {
    closed_by_user_ = true;
    if (!socket_->in_table) return;
    const Time now = engine_.now();
    engine_.run_core(socket_, [&](Tcb& tcb, Outputs& out) { close_1(tcb, now, out); });
}

void Connection::abort() {
    closed_by_user_ = true;
    if (!socket_->in_table) return;
    const Time now = engine_.now();
    engine_.run_core(socket_, [&](Tcb& tcb, Outputs& out) { abort_1(tcb, now, out); });
}

void Connection::set_nodelay(bool on) {
    if (!socket_->in_table) return;
    engine_.run_core(socket_, [&](Tcb& tcb, Outputs&) { set_nodelay_1(tcb, on); });
}

void Connection::on_event(std::function<void(std::uint32_t events)> callback) {
    socket_->on_event = std::move(callback);
    if (!socket_->on_event) return;
    // Report the current readiness once, so a callback set late misses nothing (a connection
    // from accept() may already hold data, a FIN or an error).
    const Tcb& tcb = socket_->tcb;
    const std::uint32_t events = tcp::current_readiness(
        {tcb.state, tcb.error, readable_bytes(), utcp::eof(tcb), send_space()});
    if (events) engine_.queue_events(socket_, events);
}

}  // namespace netloom::utcp
