// rr.hpp — the `rr` app: request/response latency over TCP (like netperf TCP_RR and TCP_CRR).
//
// Contract. Wire format (all integers big endian): a request is `size` bytes: a 12-byte header
// (u32 request length = size, u32 response length, u32 transaction number) then payload bytes
// that depend on the transaction number and their offset (rr_pattern); the response is exactly
// `response length` pattern bytes, no header. The server answers each request on a connection in
// order; a header outside its bounds, a payload that differs from the pattern, or a peer that
// neither sends nor accepts a byte for `idle_timeout` resets the connection (counted). The client
// (finite) runs transactions back to back on one connection
// (`mode: rr`) or on a new connection each (`mode: crr`: connect, request, half-close, response,
// peer's FIN, close). It measures each with Scheduler::now(), excludes those that start before
// `warmup` has passed, stops after `duration` or `transactions`, and finishes with status 0
// only if every response was complete and byte-exact, no operation failed or timed out, and at
// least one transaction was measured. A `duration` run whose clock does not move (a virtual
// clock over a link without latency or rate) fails with an error instead of spinning forever. Its
// JSON report has "metrics": {rr_per_s, latency_p50_us, latency_p99_us[, connections_per_s]} for
// the A/B harness.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "latency_histogram.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

inline constexpr std::size_t kRrHeaderSize = 12;

struct RrHeader {
    std::uint32_t request_length = 0;  ///< the whole request, header included
    std::uint32_t response_length = 0;
    std::uint32_t transaction = 0;
};
void encode_rr_header(const RrHeader& header, std::span<std::uint8_t, kRrHeaderSize> out) noexcept;
RrHeader decode_rr_header(std::span<const std::uint8_t, kRrHeaderSize> in) noexcept;

/// Byte `offset` of a request (`response` false; offsets below kRrHeaderSize are the header's
/// and not pattern) or a response of transaction `transaction`.
inline std::uint8_t rr_pattern(bool response, std::uint32_t transaction,
                               std::uint64_t offset) noexcept {
    return static_cast<std::uint8_t>(offset * 31 + (offset >> 8) * 7 + transaction * 131 +
                                     (response ? 0x5a : 0));
}
/// Fills `out` with the pattern from stream offset `offset` on.
void fill_rr_pattern(std::span<std::uint8_t> out, bool response, std::uint32_t transaction,
                     std::uint64_t offset) noexcept;
/// True when `in` is the pattern from `offset` on.
bool check_rr_pattern(std::span<const std::uint8_t> in, bool response, std::uint32_t transaction,
                      std::uint64_t offset) noexcept;

struct RrOptions {
    enum class Role { server, client };
    enum class Mode { rr, crr };
    Role role = Role::server;
    std::uint16_t port = 5002;
    // server
    std::uint32_t max_connections = 1024;
    std::uint32_t max_size = 64u << 20;            ///< largest request or response length accepted
    Time idle_timeout = std::chrono::seconds(60);  ///< a connection idle this long is reset
    // client
    Ipv4Address target;
    Mode mode = Mode::rr;
    std::uint32_t size = 64;                    ///< request bytes on the wire (header included)
    std::uint32_t response_size = 64;           ///< response bytes on the wire
    std::optional<Time> duration;               ///< measured time (after warmup), or
    std::optional<std::uint64_t> transactions;  ///< measured transactions
    Time warmup{0};
    Time timeout = std::chrono::seconds(10);  ///< bound on one transaction (connect included)
    bool nodelay = true;
    std::string report;

    static constexpr std::uint32_t kMaxSize = 1u << 30;
    /// Transactions in a row that take no time before a run is declared stuck: a real clock
    /// always moves in far fewer; only a virtual one over a zero-delay link stands still.
    static constexpr std::uint64_t kStuckTransactions = 10'000;
    static RrOptions from_config(const Config& config);
};

std::unique_ptr<App> make_rr(const Config& config, Env& env);

class RrServer final : public App {
public:
    RrServer(const RrOptions& options, TcpEngine& tcp, Scheduler& scheduler,
             std::shared_ptr<spdlog::logger> log);
    ~RrServer() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    Task<void> accept_loop();
    Task<void> serve(TcpStream stream);
    /// Reads and checks one request's payload, then writes its response: true when both went
    /// through; false after counting why and resetting the stream.
    Task<bool> answer(TcpStream& stream, RrHeader header, std::vector<std::uint8_t>& buffer);
    Time deadline() const noexcept;  ///< of a read started now: now + idle_timeout, or none
    void count_failure(IoStatus status) noexcept;

    RrOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    std::uint64_t connections_ = 0, refused_ = 0, current_ = 0, transactions_ = 0;
    std::uint64_t bad_requests_ = 0, corrupt_ = 0, errors_ = 0, bytes_in_ = 0, bytes_out_ = 0;
    std::uint64_t timeouts_ = 0;
    TaskScope scope_;  // last: destroyed first, ending the coroutines that use the rest
};

class RrClient final : public App {
public:
    RrClient(RrOptions options, TcpEngine& tcp, Scheduler& scheduler,
             std::shared_ptr<spdlog::logger> log);
    ~RrClient() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

    const LatencyHistogram& latencies() const noexcept { return histogram_; }

private:
    Task<void> run();
    Task<TcpStream> open(Time deadline);
    /// One request and its response on `stream`; sets failure_ and returns false on a problem.
    Task<bool> transact(TcpStream& stream, std::uint32_t transaction, Time deadline);
    /// crr: after the response, the peer's FIN and our close. rr: at the very end, the same.
    Task<bool> finish_stream(TcpStream& stream, Time deadline);
    bool fail(std::string why);
    /// False (after failing the run) when the clock has not moved for kStuckTransactions.
    bool clock_moves(Time begin, Time end);
    bool measuring_done(Time now) const noexcept;
    void report(Time measured_from, Time measured_to);

    RrOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::vector<std::uint8_t> out_, in_;
    LatencyHistogram histogram_;
    TcpInfo tcp_sums_;
    std::string failure_;  ///< the first problem; empty while all is well
    std::uint64_t started_ = 0, completed_ = 0, warmup_done_ = 0, connections_ = 0;
    std::uint64_t bytes_sent_ = 0, bytes_received_ = 0, corrupt_ = 0, errors_ = 0;
    double cpu_start_ = 0;
    Time scheduler_start_{0};
    std::uint64_t same_time_ = 0;  ///< transactions in a row that took no scheduler time
    TaskScope scope_;              // last
};

}  // namespace netloom::apps
