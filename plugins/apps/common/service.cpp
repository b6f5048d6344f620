// The small servers' shared parts: keys, the bounded accept loop, counters, the UDP loop.
#include "service.hpp"

#include <stdexcept>
#include <utility>

#include "tcp_app_support.hpp"

namespace netloom::apps {

ServiceOptions ServiceOptions::from_config(const Config& config, std::uint16_t default_port,
                                           bool udp_allowed) {
    ServiceOptions o;
    o.port = read_port(config, "port", default_port);
    if (udp_allowed) {
        const std::string transport = config.get_choice("transport", {"tcp", "udp", "both"}, "tcp");
        o.tcp = transport != "udp";
        o.udp = transport != "tcp";
    }
    o.max_connections =
        static_cast<std::uint32_t>(config.get_int("max_connections", 256, 1, 1'000'000));
    o.idle_timeout = config.get_duration("idle_timeout", kDefaultIdleTimeout);  // 0: none
    return o;
}

TcpService::TcpService(std::string name, Scheduler& scheduler, TcpEngine& engine,
                       const ServiceOptions& options, TaskScope& scope, Handler handler)
    : name_(std::move(name)),
      scheduler_(scheduler),
      engine_(engine),
      options_(options),
      scope_(scope),
      handler_(std::move(handler)) {}

void TcpService::start() {
    try {
        acceptor_ = std::make_unique<TcpAcceptor>(scheduler_, engine_, options_.port);
    } catch (const std::exception& e) {
        throw std::runtime_error(name_ + " server: cannot listen on TCP port " +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    scope_.spawn(accept_loop());
}

Task<void> TcpService::accept_loop() {
    for (;;) {
        TcpStream stream = co_await acceptor_->accept();
        if (!stream) continue;
        if (current_ >= options_.max_connections) {
            ++refused_;
            stream.abort();
            continue;
        }
        ++accepted_;
        ++current_;  // counted here: serve() starts on a later loop turn
        scope_.spawn(serve(std::move(stream)));
    }
}

Task<void> TcpService::serve(TcpStream stream) {
    struct Live {  // counts down however the frame ends (also when the scope destroys it)
        std::uint64_t& n;
        ~Live() { --n; }
    } live{current_};
    co_await handler_(stream);
}

void ServiceCounters::failed(TcpStream& stream, IoStatus status) {
    ++(status == IoStatus::deadline ? timeouts : errors);
    stream.abort();
}

void ServiceCounters::visit(const CounterVisitor& visit, bool udp) const {
    visit("bytes_received", bytes_received);
    visit("bytes_sent", bytes_sent);
    visit("completed", completed);
    visit("errors", errors);
    visit("timeouts", timeouts);
    if (!udp) return;
    visit("datagrams_received", datagrams_received);
    visit("datagrams_sent", datagrams_sent);
    visit("datagram_errors", datagram_errors);
}

Task<void> finish_connection(TcpStream& stream, ServiceCounters& counters, Scheduler& scheduler) {
    const IoResult closed = co_await stream.close(scheduler.now() + std::chrono::minutes(1));
    if (closed.ok()) {
        ++counters.completed;
    } else {
        counters.failed(stream, closed.status);
    }
}

std::unique_ptr<UdpChannel> start_udp_service(const char* name, Scheduler& scheduler, IpLayer& ip,
                                              std::uint16_t port, TaskScope& scope,
                                              ServiceCounters& counters, bool echo) {
    std::unique_ptr<UdpChannel> channel;
    try {
        channel = std::make_unique<UdpChannel>(scheduler, ip, port);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(name) + " server: cannot bind UDP port " +
                                 std::to_string(port) + ": " + e.what());
    }
    scope.spawn(serve_udp(*channel, counters, echo));
    return channel;
}

const char* transports_name(bool tcp, bool udp) noexcept {
    return tcp && udp ? "tcp, udp" : tcp ? "tcp" : "udp";
}

Task<void> serve_udp(UdpChannel& channel, ServiceCounters& counters, bool echo) {
    for (;;) {
        UdpReceiveResult r = co_await channel.receive();
        if (!r.datagram) {
            ++counters.datagram_errors;  // an ICMP error for something we sent earlier
            continue;
        }
        ++counters.datagrams_received;
        counters.bytes_received += r.datagram->payload.size();
        if (!echo) continue;
        // RFC 862: the datagram's data goes back to its sender as it came.
        if (channel.send_to(r.datagram->from, r.datagram->payload.bytes()) == IoStatus::ok) {
            ++counters.datagrams_sent;
            counters.bytes_sent += r.datagram->payload.size();
        } else {
            ++counters.datagram_errors;
        }
    }
}

void TcpService::visit_counters(const CounterVisitor& visit) const {
    visit("connections", accepted_);
    visit("connections_current", current_);
    visit("connections_refused", refused_);
}

}  // namespace netloom::apps
