// discard.hpp — the `discard` app: the Discard Protocol server (RFC 863) over TCP, UDP or both.
//
// Contract: TCP: every byte received is read and dropped (counted) until the peer's FIN, then
// the server closes; it never sends data. At most `max_connections` connections at once (more
// are reset, counted); with `idle_timeout` (default 5 min) a connection silent that long is reset
// (counted). UDP: datagrams are counted and dropped. It never finishes.
#pragma once

#include <functional>
#include <memory>

#include <spdlog/logger.h>

#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "service.hpp"

namespace netloom::apps {

std::unique_ptr<App> make_discard(const Config& config, Env& env);

class DiscardServer final : public App {
public:
    DiscardServer(const ServiceOptions& options, TcpEngine* tcp, IpLayer* ip, Scheduler& scheduler,
                  std::shared_ptr<spdlog::logger> log);
    ~DiscardServer() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    Task<void> serve(TcpStream& stream);

    ServiceOptions options_;
    TcpEngine* tcp_;
    IpLayer* ip_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    ServiceCounters counters_;
    std::vector<std::uint8_t> sink_;  ///< shared by all connections: used between awaits only
    std::unique_ptr<TcpService> service_;
    std::unique_ptr<UdpChannel> udp_;
    TaskScope scope_;  // last
};

}  // namespace netloom::apps
