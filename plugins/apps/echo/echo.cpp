// echo: the keys of both roles, the factory, and the RFC 862 server over TCP (bounded
// per-connection buffer) and UDP.
#include "echo.hpp"

#include <stdexcept>
#include <vector>

#include "tcp_app_support.hpp"

namespace netloom::apps {

EchoOptions EchoOptions::from_config(const Config& config) {
    EchoOptions o;
    const std::string role = config.get_choice("role", {"server", "client"}, "server");
    if (role == "server") {
        refuse_keys(config, {"target", "bytes", "seed", "connections", "parallel"},
                    "is a client key; this echo has role: server");
        o.server = ServiceOptions::from_config(config, 7, true);
        return o;
    }
    o.role = Role::client;
    refuse_keys(config, {"transport", "max_connections", "idle_timeout"},
                "is a server key; this echo has role: client");
    EchoClientOptions& c = o.client;
    c.target = read_target(config);
    c.port = read_port(config, "port", 7);
    c.bytes = config.get_size("bytes", c.bytes);
    c.seed = static_cast<std::uint64_t>(config.get_int("seed", 1, 0));
    constexpr std::uint32_t kMax = EchoClientOptions::kMaxConnections;
    c.connections = static_cast<std::uint32_t>(config.get_int("connections", 1, 1, kMax));
    c.parallel = static_cast<std::uint32_t>(config.get_int("parallel", 1, 1, kMax));
    return o;
}

std::unique_ptr<App> make_echo(const Config& config, Env& env) {
    const EchoOptions options = EchoOptions::from_config(config);
    config.done();
    if (options.role == EchoOptions::Role::client) {
        return std::make_unique<EchoClient>(options.client, env.tcp(), env.scheduler(),
                                            env.logger("app.echo"));
    }
    TcpEngine* tcp = options.server.tcp ? &env.tcp() : nullptr;
    IpLayer* ip = options.server.udp ? &env.ip() : nullptr;
    return std::make_unique<EchoServer>(options.server, tcp, ip, env.scheduler(),
                                        env.logger("app.echo"));
}

EchoServer::EchoServer(const ServiceOptions& options, TcpEngine* tcp, IpLayer* ip,
                       Scheduler& scheduler, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      tcp_(tcp),
      ip_(ip),
      scheduler_(scheduler),
      log_(std::move(log)),
      scope_(scheduler) {}

EchoServer::~EchoServer() = default;

void EchoServer::start(std::function<void(int)> /*a server never finishes*/) {
    if (tcp_) {
        service_ = std::make_unique<TcpService>("echo", scheduler_, *tcp_, options_, scope_,
                                                [this](TcpStream& s) { return serve(s); });
        service_->start();
    }
    if (ip_)
        udp_ = start_udp_service("echo", scheduler_, *ip_, options_.port, scope_, counters_, true);
    log_->info("echo server on port {} ({})", options_.port,
               transports_name(tcp_ != nullptr, ip_ != nullptr));
}

Task<void> EchoServer::serve(TcpStream& stream) {
    std::vector<std::uint8_t> buffer(kBuffer);
    for (;;) {
        const IoResult r = co_await stream.read(buffer, options_.deadline(scheduler_));
        if (r.status == IoStatus::eof) break;
        if (!r.ok()) co_return counters_.failed(stream, r.status);
        counters_.bytes_received += r.bytes;
        // Waits here while the peer does not read: nothing more is read meanwhile.
        const IoResult w =
            co_await stream.write_all_idle({buffer.data(), r.bytes}, options_.idle_timeout);
        counters_.bytes_sent += w.bytes;
        if (!w.ok()) co_return counters_.failed(stream, w.status);
    }
    co_await finish_connection(stream, counters_, scheduler_);
}

void EchoServer::visit_counters(const CounterVisitor& visit) const {
    if (service_) service_->visit_counters(visit);
    counters_.visit(visit, ip_ != nullptr);
}

}  // namespace netloom::apps
