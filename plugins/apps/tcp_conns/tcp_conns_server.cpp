// tcp_conns server: accepts and holds connections until their peers close them.
#include <stdexcept>
#include <string>

#include "tcp_app_support.hpp"
#include "tcp_conns.hpp"

namespace netloom::apps {

TcpConnsServer::TcpConnsServer(std::uint16_t port, std::uint32_t backlog, TcpEngine& tcp,
                               Scheduler& scheduler, std::shared_ptr<spdlog::logger> log)
    : port_(port),
      backlog_(backlog),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      wakeup_(scheduler) {}

TcpConnsServer::~TcpConnsServer() {
    for (auto& entry : held_) entry.second.connection->on_event({});
    if (listener_) listener_->on_acceptable({});
}

void TcpConnsServer::start(std::function<void(int)> /*finished: a server never finishes*/) {
    try {
        listener_ = tcp_.listen(port_, backlog_);
    } catch (const std::exception& e) {
        throw std::runtime_error("tcp_conns server: cannot listen on TCP port " +
                                 std::to_string(port_) + ": " + e.what());
    }
    listener_->on_acceptable([this] { wakeup_.notify(); });
    log_->info("tcp_conns server listening on port {}", port_);
    wakeup_.spawn(accept_loop());
}

Task<void> TcpConnsServer::accept_loop() {
    for (;;) {
        // Connections are dropped here, never inside their own callback.
        for (std::uint64_t id : ended_) held_.erase(id);
        ended_.clear();
        while (auto connection = listener_->accept()) {
            const std::uint64_t id = next_id_++;
            ++accepted_;
            connection->on_event([this, id](std::uint32_t) { on_event(id); });
            held_.emplace(id, Held{std::move(connection)});
        }
        co_await wakeup_.wait();
    }
}

void TcpConnsServer::on_event(std::uint64_t id) {
    const auto it = held_.find(id);
    if (it == held_.end() || it->second.ended) return;
    Held& held = it->second;
    TcpConnection& c = *held.connection;
    std::uint8_t sink[512];
    while (c.recv(sink) > 0) {
    }
    const bool error = c.error() != TcpError::none;
    if (!error && c.eof() && !held.closing) {
        held.closing = true;
        c.close();  // the peer is done: our FIN (CLOSE-WAIT -> LAST-ACK)
    }
    if (error || tcp_finished(c.state())) {
        ++(error ? errors_ : closed_);
        held.ended = true;
        ended_.push_back(id);
        wakeup_.notify();
    }
}

void TcpConnsServer::visit_counters(const CounterVisitor& visit) const {
    visit("connections", accepted_);
    visit("connections_current", held_.size() - ended_.size());
    visit("closed", closed_);
    visit("errors", errors_);
}

}  // namespace netloom::apps
