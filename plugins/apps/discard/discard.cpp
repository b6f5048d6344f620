// discard: the RFC 863 server over TCP and UDP; the factory.
#include "discard.hpp"

#include <stdexcept>

#include "tcp_app_support.hpp"

namespace netloom::apps {

std::unique_ptr<App> make_discard(const Config& config, Env& env) {
    const ServiceOptions options = ServiceOptions::from_config(config, 9, true);
    config.done();
    TcpEngine* tcp = options.tcp ? &env.tcp() : nullptr;
    IpLayer* ip = options.udp ? &env.ip() : nullptr;
    return std::make_unique<DiscardServer>(options, tcp, ip, env.scheduler(),
                                           env.logger("app.discard"));
}

DiscardServer::DiscardServer(const ServiceOptions& options, TcpEngine* tcp, IpLayer* ip,
                             Scheduler& scheduler, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      tcp_(tcp),
      ip_(ip),
      scheduler_(scheduler),
      log_(std::move(log)),
      sink_(kTcpAppChunk),
      scope_(scheduler) {}

DiscardServer::~DiscardServer() = default;

void DiscardServer::start(std::function<void(int)> /*a server never finishes*/) {
    if (tcp_) {
        service_ = std::make_unique<TcpService>("discard", scheduler_, *tcp_, options_, scope_,
                                                [this](TcpStream& s) { return serve(s); });
        service_->start();
    }
    if (ip_)
        udp_ =
            start_udp_service("discard", scheduler_, *ip_, options_.port, scope_, counters_, false);
    log_->info("discard server on port {} ({})", options_.port,
               transports_name(tcp_ != nullptr, ip_ != nullptr));
}

Task<void> DiscardServer::serve(TcpStream& stream) {
    for (;;) {
        const IoResult r = co_await stream.read(sink_, options_.deadline(scheduler_));
        if (r.status == IoStatus::eof) break;
        if (!r.ok()) co_return counters_.failed(stream, r.status);
        counters_.bytes_received += r.bytes;
    }
    co_await finish_connection(stream, counters_, scheduler_);
}

void DiscardServer::visit_counters(const CounterVisitor& visit) const {
    if (service_) service_->visit_counters(visit);
    counters_.visit(visit, ip_ != nullptr);
}

}  // namespace netloom::apps
