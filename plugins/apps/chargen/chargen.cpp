// chargen: the RFC 864 pattern, the TCP server sending it until the peer stops, the factory.
#include "chargen.hpp"

#include "tcp_app_support.hpp"

namespace netloom::apps {

std::vector<std::uint8_t> chargen_cycle() {
    std::vector<std::uint8_t> cycle;
    cycle.reserve(kChargenLines * (kChargenLine + 2));
    for (std::size_t line = 0; line < kChargenLines; ++line) {
        for (std::size_t i = 0; i < kChargenLine; ++i) {
            cycle.push_back(static_cast<std::uint8_t>(' ' + (line + i) % kChargenLines));
        }
        cycle.push_back('\r');
        cycle.push_back('\n');
    }
    return cycle;
}

std::unique_ptr<App> make_chargen(const Config& config, Env& env) {
    const ServiceOptions options = ServiceOptions::from_config(config, 19, false);
    config.done();
    return std::make_unique<ChargenServer>(options, env.tcp(), env.scheduler(),
                                           env.logger("app.chargen"));
}

ChargenServer::ChargenServer(const ServiceOptions& options, TcpEngine& tcp, Scheduler& scheduler,
                             std::shared_ptr<spdlog::logger> log)
    : options_(options),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      cycle_(chargen_cycle()),
      sink_(kTcpAppChunk),
      scope_(scheduler) {}

ChargenServer::~ChargenServer() = default;

void ChargenServer::start(std::function<void(int)> /*a server never finishes*/) {
    service_ = std::make_unique<TcpService>("chargen", scheduler_, tcp_, options_, scope_,
                                            [this](TcpStream& s) { return serve(s); });
    service_->start();
    log_->info("chargen server on TCP port {}", options_.port);
}

Task<void> ChargenServer::serve(TcpStream& stream) {
    TcpConnection& connection = stream.connection();
    for (;;) {
        // RFC 864: what the peer sends is thrown away; its FIN ends the service.
        for (std::size_t n; (n = connection.recv(sink_)) > 0;) counters_.bytes_received += n;
        if (connection.eof()) break;
        // Waits here while the peer does not read (flow control); a reset ends it with an error.
        const IoResult w = co_await stream.write_all_idle(cycle_, options_.idle_timeout);
        counters_.bytes_sent += w.bytes;
        if (!w.ok()) co_return counters_.failed(stream, w.status);
    }
    co_await finish_connection(stream, counters_, scheduler_);
}

void ChargenServer::visit_counters(const CounterVisitor& visit) const {
    if (service_) service_->visit_counters(visit);  // set in start()
    counters_.visit(visit, false);
}

}  // namespace netloom::apps
