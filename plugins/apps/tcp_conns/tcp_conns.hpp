// tcp_conns.hpp — the `tcp_conns` app: opens many TCP connections and measures what an idle
// established connection costs (the engine's memory_in_use() and the process heap), or, as
// `role: server`, accepts connections and holds them.
//
// Contract (client): opens `count` connections to `target`:`port`, the first alone (it waits
// for ARP), then never more than `burst` still opening at a time; once every one is
// established or has failed, waits `settle` (so
// handshake ACKs and timers are done), then measures this stack's engine memory_in_use() and
// the glibc heap in use (mallinfo2().uordblks) against their values before the first connect,
// each divided by the connections established; holds them `hold`, closes them, at most
// `burst` closing at a time, within `close_timeout` in all; then finishes, status 0 only if all
// `count` were established and none failed while held. One coroutine paces and measures; one
// short-lived coroutine per connection opens it (and later one closes it), so an idle
// connection holds no coroutine, only its TcpStream in a table allocated before the baseline.
// Contract (server): listens on `port` (accept queue `backlog`), accepts every connection,
// and holds each in a coroutine that discards what arrives and closes when the peer has
// half-closed; it never finishes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct TcpConnsOptions {
    enum class Role { client, server };
    Role role = Role::client;
    std::uint16_t port = 5002;
    std::uint32_t backlog = 0;  ///< server only: accept queue (0: the engine's default)
    // client only
    Ipv4Address target;
    std::uint32_t count = 1000;
    std::uint32_t burst = 100;
    Time settle = std::chrono::milliseconds(200);
    Time hold = std::chrono::seconds(1);
    Time close_timeout = std::chrono::seconds(10);
    std::string report;

    static constexpr std::uint32_t kMaxCount = 1'000'000;

    /// Reads and validates the keys (does not call config.done()).
    static TcpConnsOptions from_config(const Config& config);
};

/// The factory behind the plugin: reads the config, calls config.done(), builds the role's app.
std::unique_ptr<App> make_tcp_conns(const Config& config, Env& env);

/// Bytes the process heap has handed out and not taken back (glibc mallinfo2().uordblks).
std::size_t heap_bytes_in_use() noexcept;

class TcpConnsClient final : public App {
public:
    struct Measurement {
        std::uint32_t established = 0;
        std::uint64_t engine_bytes = 0;  ///< memory_in_use() delta
        std::int64_t heap_bytes = 0;     ///< mallinfo2 delta (may be negative in theory)
        double establish_seconds = 0;
        double engine_bytes_per_connection() const noexcept;
        double heap_bytes_per_connection() const noexcept;
    };

    TcpConnsClient(TcpConnsOptions options, TcpEngine& tcp, Scheduler& scheduler,
                   std::shared_ptr<spdlog::logger> log);
    ~TcpConnsClient() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;
    const Measurement& measurement() const noexcept { return measurement_; }

private:
    Task<void> run();
    Task<void> open(std::uint32_t index);
    Task<void> close(std::uint32_t index, Time limit);
    void report(double cpu_seconds, double hold_seconds) const;

    TcpConnsOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::vector<TcpStream> slots_;          ///< by index; empty until established
    std::array<std::uint8_t, 512> sink_{};  ///< what a peer sent before the close: dropped

    std::uint32_t opening_ = 0;  ///< connects issued and not yet established or failed
    std::uint32_t established_ = 0, failed_ = 0, dropped_ = 0, closing_ = 0, closed_ = 0;
    Measurement measurement_;

    WaitList changed_;  ///< an open or a close finished
    TaskScope scope_;   // last: destroyed first, with the coroutines using the rest
};

class TcpConnsServer final : public App {
public:
    TcpConnsServer(std::uint16_t port, std::uint32_t backlog, TcpEngine& tcp, Scheduler& scheduler,
                   std::shared_ptr<spdlog::logger> log);
    ~TcpConnsServer() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    Task<void> accept_loop();
    Task<void> hold(TcpStream stream);

    std::uint16_t port_;
    std::uint32_t backlog_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    std::array<std::uint8_t, 512> sink_{};  ///< every connection's reads: dropped at once
    std::uint64_t accepted_ = 0, closed_ = 0, errors_ = 0;

    TaskScope scope_;  // last: destroyed first, with the coroutines using the rest
};

}  // namespace netloom::apps
