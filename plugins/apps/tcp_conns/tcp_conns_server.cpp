// tcp_conns server: accepts connections and holds each until its peer closes it.
#include <stdexcept>
#include <string>

#include "tcp_conns.hpp"

namespace netloom::apps {

TcpConnsServer::TcpConnsServer(std::uint16_t port, std::uint32_t backlog, TcpEngine& tcp,
                               Scheduler& scheduler, std::shared_ptr<spdlog::logger> log)
    : port_(port),
      backlog_(backlog),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      scope_(scheduler) {}

TcpConnsServer::~TcpConnsServer() = default;

void TcpConnsServer::start(std::function<void(int)> /*finished: a server never finishes*/) {
    try {
        acceptor_ = std::make_unique<TcpAcceptor>(scheduler_, tcp_, port_, backlog_);
    } catch (const std::exception& e) {
        throw std::runtime_error("tcp_conns server: cannot listen on TCP port " +
                                 std::to_string(port_) + ": " + e.what());
    }
    log_->info("tcp_conns server listening on port {}", port_);
    scope_.spawn(accept_loop());
}

Task<void> TcpConnsServer::accept_loop() {
    for (;;) {
        TcpStream stream = co_await acceptor_->accept();
        if (!stream) continue;
        ++accepted_;
        scope_.spawn(hold(std::move(stream)));
    }
}

// Drops what arrives until the peer's FIN, then closes (CLOSE-WAIT -> LAST-ACK -> CLOSED).
Task<void> TcpConnsServer::hold(TcpStream stream) {
    IoResult r;
    do {
        r = co_await stream.read(sink_);  // the sink is shared: the bytes are dropped at once
    } while (r.ok());
    if (r.status == IoStatus::eof) r = co_await stream.close();
    // A connection that reached CLOSED without an error (read: closed) ended cleanly too.
    ++(r.ok() || r.status == IoStatus::closed ? closed_ : errors_);
}

void TcpConnsServer::visit_counters(const CounterVisitor& visit) const {
    visit("connections", accepted_);
    visit("connections_current", accepted_ - closed_ - errors_);
    visit("closed", closed_);
    visit("errors", errors_);
}

}  // namespace netloom::apps
