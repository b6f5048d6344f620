// chargen.hpp — the `chargen` app: the Character Generator Protocol server (RFC 864) over TCP.
//
// Contract: on each connection the server sends the RFC's rotating pattern — lines of 72
// printable ASCII characters (codes 32..126), each starting one character further along than the
// line before, each ended by CR LF, repeating every 95 lines — until the peer ends the
// connection: its FIN (after which the server closes) or a reset. Bytes the peer sends are read
// and dropped. The sender waits in write_all while the peer does not read, so memory does not
// grow with a stalled reader; with `idle_timeout` (default 5 min), a peer that accepts no byte for
// that long is reset (counted as a timeout). At most `max_connections` at once (more are reset,
// counted). It never finishes.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <spdlog/logger.h>

#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "service.hpp"

namespace netloom::apps {

/// One full cycle of the RFC 864 pattern: 95 lines of 72 characters and CR LF (7030 bytes).
std::vector<std::uint8_t> chargen_cycle();
inline constexpr std::size_t kChargenLine = 72;
inline constexpr std::size_t kChargenLines = 95;  ///< printable ASCII characters, 32..126

std::unique_ptr<App> make_chargen(const Config& config, Env& env);

class ChargenServer final : public App {
public:
    ChargenServer(const ServiceOptions& options, TcpEngine& tcp, Scheduler& scheduler,
                  std::shared_ptr<spdlog::logger> log);
    ~ChargenServer() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    Task<void> serve(TcpStream& stream);

    ServiceOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    ServiceCounters counters_;
    const std::vector<std::uint8_t> cycle_;  ///< shared, read-only
    std::vector<std::uint8_t> sink_;         ///< shared: used between awaits only
    std::unique_ptr<TcpService> service_;
    TaskScope scope_;  // last
};

}  // namespace netloom::apps
