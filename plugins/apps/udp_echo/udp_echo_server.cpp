// udp_echo server: one coroutine receives each datagram and sends it back (RFC 862).
#include <stdexcept>

#include "udp_echo.hpp"

namespace netloom::apps {

UdpEchoServer::UdpEchoServer(std::uint16_t port, IpLayer& ip, Scheduler& scheduler,
                             std::shared_ptr<spdlog::logger> log)
    : port_(port), ip_(ip), scheduler_(scheduler), log_(std::move(log)), scope_(scheduler) {}

UdpEchoServer::~UdpEchoServer() = default;

void UdpEchoServer::start(std::function<void(int)> /*finished: a server never finishes*/) {
    try {
        channel_ = std::make_unique<UdpChannel>(scheduler_, ip_, port_);
    } catch (const std::exception& e) {
        throw std::runtime_error("udp_echo server: cannot bind UDP port " + std::to_string(port_) +
                                 ": " + e.what());
    }
    log_->info("udp_echo server listening on {}:{}", ip_.address().address.to_string(), port_);
    scope_.spawn(serve());
}

Task<void> UdpEchoServer::serve() {
    for (;;) {
        const UdpReceiveResult r = co_await channel_->receive();
        if (!r.datagram) {
            // An ICMP error for an echo we sent (the client went away): nothing to do but count.
            ++icmp_errors_;
            continue;
        }
        ++received_;
        received_bytes_ += r.datagram->payload.size();
        // The payload goes back as it came; the IP layer copies it into a new datagram.
        if (channel_->send_to(r.datagram->from, r.datagram->payload.bytes()) == IoStatus::ok) {
            ++echoed_;
        } else {
            ++send_failed_;
        }
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
