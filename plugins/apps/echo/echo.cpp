// echo: the RFC 862 server over TCP (bounded per-connection buffer) and UDP; the factory.
#include "echo.hpp"

#include <stdexcept>
#include <vector>

namespace netloom::apps {

std::unique_ptr<App> make_echo(const Config& config, Env& env) {
    const ServiceOptions options = ServiceOptions::from_config(config, 7, true);
    config.done();
    TcpEngine* tcp = options.tcp ? &env.tcp() : nullptr;
    IpLayer* ip = options.udp ? &env.ip() : nullptr;
    return std::make_unique<EchoServer>(options, tcp, ip, env.scheduler(), env.logger("app.echo"));
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
