// udp_echo server: one coroutine drains the socket and sends each datagram back (RFC 862).
#include <stdexcept>

#include "udp_echo.hpp"

namespace netloom::apps {

UdpEchoServer::UdpEchoServer(std::uint16_t port, IpLayer& ip, Scheduler& scheduler,
                             std::shared_ptr<spdlog::logger> log)
    : port_(port), ip_(ip), scheduler_(scheduler), log_(std::move(log)), wakeup_(scheduler) {}

UdpEchoServer::~UdpEchoServer() {
    if (socket_) socket_->on_readable({});
}

void UdpEchoServer::start(std::function<void(int)> /*finished: a server never finishes*/) {
    try {
        socket_ = ip_.udp_bind(port_);
    } catch (const std::exception& e) {
        throw std::runtime_error("udp_echo server: cannot bind UDP port " + std::to_string(port_) +
                                 ": " + e.what());
    }
    socket_->on_readable([this] { wakeup_.notify(); });
    log_->info("udp_echo server listening on {}:{}", ip_.address().address.to_string(), port_);
    wakeup_.spawn(serve());
}

Task<void> UdpEchoServer::serve() {
    for (;;) {
        while (auto datagram = socket_->receive()) {
            ++received_;
            received_bytes_ += datagram->payload.size();
            // The payload goes back as it came; the IP layer copies it into a new datagram.
            const IpSendStatus status = socket_->send_to(datagram->from, datagram->payload.bytes());
            if (status == IpSendStatus::sent || status == IpSendStatus::queued) {
                ++echoed_;
            } else {
                ++send_failed_;
            }
        }
        // An ICMP error for an echo we sent (the client went away): nothing to do but count it.
        while (socket_->take_error()) ++icmp_errors_;
        co_await wakeup_.wait();
    }
}

void UdpEchoServer::visit_counters(const CounterVisitor& visit) const {
    visit("received", received_);
    visit("received_bytes", received_bytes_);
    visit("echoed", echoed_);
    visit("send_failed", send_failed_);
    visit("icmp_errors", icmp_errors_);
}

}  // namespace netloom::apps
