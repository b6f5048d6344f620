// tcp_echo server: one coroutine accepts, one per connection echoes until the peer's FIN.
#include <stdexcept>
#include <string>

#include "tcp_app_support.hpp"
#include "tcp_echo.hpp"

namespace netloom::apps {

TcpEchoServer::TcpEchoServer(std::uint16_t port, TcpEngine& tcp, Scheduler& scheduler,
                             std::shared_ptr<spdlog::logger> log)
    : port_(port),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      scratch_(kTcpAppChunk),
      wakeup_(scheduler) {}

TcpEchoServer::~TcpEchoServer() {
    if (listener_) listener_->on_acceptable({});
}

void TcpEchoServer::start(std::function<void(int)> /*finished: a server never finishes*/) {
    try {
        listener_ = tcp_.listen(port_);
    } catch (const std::exception& e) {
        throw std::runtime_error("tcp_echo server: cannot listen on TCP port " +
                                 std::to_string(port_) + ": " + e.what());
    }
    listener_->on_acceptable([this] { wakeup_.notify(); });
    log_->info("tcp_echo server listening on port {}", port_);
    wakeup_.spawn(accept_loop());
}

Task<void> TcpEchoServer::accept_loop() {
    for (;;) {
        reap();
        while (auto connection = listener_->accept()) {
            ++accepted_;
            auto& session = *sessions_.emplace_back(
                std::make_unique<Session>(scheduler_, std::move(connection)));
            notify_on_events(*session.connection, session.wakeup);
            session.wakeup.spawn(serve(session));
        }
        co_await wakeup_.wait();
    }
}

void TcpEchoServer::reap() {
    // A session's coroutine has returned by the time its `done` is seen here: it notified this
    // loop, whose resume runs on a later loop turn.
    sessions_.remove_if([](const std::unique_ptr<Session>& s) { return s->done; });
}

// Moves what it can from the receive side to the send side; true if anything moved.
bool TcpEchoServer::echo_some(Session& session) {
    TcpConnection& c = *session.connection;
    bool moved = false;
    if (!session.unsent.empty()) {
        const std::size_t n = c.send(session.unsent);
        session.unsent.erase(session.unsent.begin(), session.unsent.begin() + n);
        bytes_ += n;
        moved = n > 0;
        if (!session.unsent.empty()) return moved;  // wait for kTcpWritable
    }
    // Read no more than the send buffer can take now, so nothing has to wait in `unsent` in
    // the common case and an idle session holds no buffer.
    for (;;) {
        const std::size_t space = c.send_space();
        if (space == 0) break;
        const std::size_t got =
            c.recv(std::span<std::uint8_t>(scratch_).first(std::min(space, scratch_.size())));
        if (got == 0) break;
        const std::size_t sent = c.send(std::span<const std::uint8_t>(scratch_).first(got));
        bytes_ += sent;
        moved = true;
        if (sent < got) {
            session.unsent.assign(scratch_.begin() + sent, scratch_.begin() + got);
            break;
        }
    }
    return moved;
}

Task<void> TcpEchoServer::serve(Session& session) {
    TcpConnection& c = *session.connection;
    // Echo until the peer has half-closed (eof) and every byte went back.
    while (c.error() == TcpError::none && !(c.eof() && session.unsent.empty())) {
        if (!echo_some(session)) co_await session.wakeup.wait();
    }
    if (c.error() == TcpError::none) {
        c.close();  // our FIN after the echoed bytes; CLOSE-WAIT -> LAST-ACK
        while (c.error() == TcpError::none && !tcp_finished(c.state())) {
            co_await session.wakeup.wait();
        }
    }
    if (c.error() == TcpError::none) {
        ++completed_;
    } else {
        ++errors_;
        log_->debug("tcp_echo server: connection from {}:{} ended: {}",
                    c.remote().address.to_string(), c.remote().port, to_string(c.error()));
    }
    session.done = true;
    wakeup_.notify();
}

void TcpEchoServer::visit_counters(const CounterVisitor& visit) const {
    visit("connections", accepted_);
    visit("connections_current", sessions_.size());
    visit("completed", completed_);
    visit("errors", errors_);
    visit("bytes", bytes_);
}

}  // namespace netloom::apps
