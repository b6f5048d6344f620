// echo.hpp — the `echo` app: the Echo Protocol server (RFC 862) over TCP, UDP or both.
//
// Contract: TCP: every byte received on a connection is sent back on it, in order; the server
// reads at most one 16 KiB buffer ahead of what the peer has accepted (it waits in write_all
// while the peer does not read), so memory per connection is bounded. After the peer's FIN and
// the last echoed byte it closes. At most `max_connections` connections are served at once (more
// are reset, counted); with `idle_timeout` (default 5 min), a connection that neither sends nor
// accepts a byte for that long is reset (counted as a timeout). UDP: each datagram goes back to
// its sender. It never finishes. Destroying the app ends every connection coroutine.
#pragma once

#include <functional>
#include <memory>

#include <spdlog/logger.h>

#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "service.hpp"

namespace netloom::apps {

std::unique_ptr<App> make_echo(const Config& config, Env& env);

class EchoServer final : public App {
public:
    static constexpr std::size_t kBuffer = 16 * 1024;

    EchoServer(const ServiceOptions& options, TcpEngine* tcp, IpLayer* ip, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log);
    ~EchoServer() override;
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
    std::unique_ptr<TcpService> service_;
    std::unique_ptr<UdpChannel> udp_;
    TaskScope scope_;  // last: destroyed first, with the coroutines using the rest
};

}  // namespace netloom::apps
