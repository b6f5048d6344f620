// tcp_bulk.hpp — the `tcp_bulk` app: a one-way bulk transfer over TCP with SHA-256 and
// throughput, the workload of the TCP benchmark and of the engine's acceptance tests.
//
// Contract: `role` says who connects (client: to `target`:`port`; server: listens on `port`),
// `direction` what this side does with the data. A sender streams `bytes` bytes of the
// DataStream of `seed`, hashing as it goes, half-closes and waits for the peer's FIN; with
// `abort_after` it resets the connection after that many bytes instead and counts that as
// success. A receiver hashes everything until EOF (or, with `expect: reset`, until the
// connection is reset, which is then the success), checks the count against `bytes` when that
// is given and the content against the DataStream of `seed` when that is given, then closes.
// Each transfer logs one info line (bytes, sha256, seconds, Gbit/s) and, with `report`, the
// app writes a JSON report whose `metrics` object carries `throughput_gbit_s` (the A/B
// harness's column) and, for a sender, a bounded `timeline` of cwnd/srtt/in-flight/acked samples. A
// client is finite (one transfer); a server is finite when `connections` > 0 (it finishes after
// that many transfers, status 0 only if all succeeded) and serves forever with 0. Seconds run from
// the connection's establishment to EOF (receiver) or to the peer's FIN (sender), on
// Scheduler::now(); cpu_seconds is process-wide getrusage.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "data_stream.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"
#include "netloom/tcp.hpp"
#include "sha256.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct TcpBulkOptions {
    enum class Role { client, server };
    enum class Direction { send, receive };
    enum class Expect { eof, reset };
    Role role = Role::client;
    Direction direction = Direction::send;
    std::uint16_t port = 5001;
    Ipv4Address target;                  ///< client only
    std::optional<std::uint64_t> bytes;  ///< sender: required; receiver: expected count
    std::optional<std::uint64_t> seed;   ///< sender: default 1; receiver: verify content
    std::uint32_t connections = 0;       ///< server only: transfers before finishing (0: never)
    std::string report;                  ///< JSON report path, empty: none
    std::optional<std::uint64_t> abort_after;  ///< sender only
    Expect expect = Expect::eof;               ///< receiver only
    bool hash = true;                          ///< compute SHA-256 (off: raw throughput)
    /// Receiver only: after this many bytes, stop reading for `stall_for` (an app that stops
    /// reading: the engine must hold the sender off with its window, not buffer without bound).
    std::optional<std::uint64_t> stall_after;
    Time stall_for{0};

    bool sender() const noexcept { return direction == Direction::send; }

    /// Reads and validates the keys (does not call config.done()).
    static TcpBulkOptions from_config(const Config& config);
};

/// One sample of a sender's connection, for the A/B chart (cwnd and RTT over time).
struct BulkSample {
    double t_ms = 0;  ///< since the connection was established
    std::uint32_t cwnd = 0, srtt_us = 0;
    std::uint32_t bytes_in_flight = 0;  ///< with the rate, what SRTT must agree with (Little)
    std::uint64_t bytes_acked = 0;
};

/// A sender samples its TcpInfo this often, keeping at most kBulkMaxSamples: when full, every
/// other sample is dropped and the interval doubles, so any transfer length fits.
inline constexpr std::chrono::milliseconds kBulkSampleInterval{20};
inline constexpr std::size_t kBulkMaxSamples = 512;

/// How one connection's transfer ended.
struct BulkResult {
    bool ok = false;
    std::string failure;  ///< why not ok ("" when ok)
    TcpError tcp_error = TcpError::none;
    std::uint64_t bytes = 0;
    std::string sha256;                         ///< hex, "" with hash: false
    double start_seconds = 0, end_seconds = 0;  ///< Scheduler::now() at establishment, at end
    double cpu_start = 0, cpu_end = 0;          ///< process CPU seconds at the same instants
    bool aborted = false;                       ///< the sender reset it on purpose (abort_after)
    TcpInfo info;                               ///< the connection's last TcpInfo
    TcpEndpoint remote;
    std::vector<BulkSample> timeline;  ///< sender only

    double seconds() const noexcept { return end_seconds - start_seconds; }
    double cpu_seconds() const noexcept { return cpu_end - cpu_start; }
    /// With stall_after: what the engine held when reading resumed.
    std::optional<std::uint64_t> stall_readable_bytes, stall_engine_memory;
    nlohmann::json to_json() const;
};

/// One connection's transfer on the app API: a coroutine that sends (a writer, with a reader
/// beside it that drops input and notices the peer's FIN) or receives, then closes.
class BulkTransfer {
public:
    /// `stream` holds the established connection, or none (a failed connect: status() says why).
    BulkTransfer(const TcpBulkOptions& options, Scheduler& scheduler, TcpStream stream,
                 spdlog::logger& log);
    ~BulkTransfer();
    BulkTransfer(const BulkTransfer&) = delete;
    BulkTransfer& operator=(const BulkTransfer&) = delete;

    /// The whole transfer, to its end (result() is final when it returns).
    Task<void> run();
    /// How the stall reads the engine's memory_in_use() (optional).
    void set_memory_probe(std::function<std::size_t()> probe) { memory_probe_ = std::move(probe); }
    const BulkResult& result() const noexcept { return result_; }
    std::uint64_t bytes_moved() const noexcept { return moved_; }

private:
    Task<void> send();
    Task<void> watch_input();
    Task<void> receive();
    Task<void> stall();
    Task<void> close();
    void verify(std::span<const std::uint8_t> got);
    std::string error_text(IoStatus status) const;
    void end_clock();
    void finish(bool ok, std::string failure);
    void sample();
    void arm_sampler();

    const TcpBulkOptions& options_;
    Scheduler& scheduler_;
    TcpStream stream_;
    spdlog::logger& log_;
    std::vector<std::uint8_t> buffer_;    ///< sender: the chunk being sent; receiver: read target
    std::vector<std::uint8_t> expected_;  ///< receiver with a seed: the stream regenerated
    std::array<std::uint8_t, 2048> sink_{};  ///< the sender's reader: input it drops
    bool write_shut_ = false;                ///< the sender queued every byte and its FIN
    bool peer_closed_ = false;               ///< the sender saw the peer's FIN before it was done
    bool input_ended_ = false;               ///< the sender's reader has returned
    IoStatus input_status_ = IoStatus::ok;   ///< what ended it (eof or an error)
    std::string pending_failure_;            ///< decided at EOF, reported once the close completes
    DataStream stream_data_;
    Sha256 hash_;
    std::uint64_t moved_ = 0;  ///< bytes sent (accepted) or received
    std::optional<std::uint64_t> first_mismatch_;
    Time started_{0}, ended_{0};
    double cpu_started_ = 0, cpu_ended_ = 0;
    bool established_ = false;
    bool clock_stopped_ = false;
    BulkResult result_;
    TimerId sample_timer_ = 0;
    std::function<std::size_t()> memory_probe_;
    bool stall_done_ = false;
    Time sample_interval_ = kBulkSampleInterval;
    WaitList input_done_;  ///< the sender's writer waits here for its reader
};

/// The factory behind the plugin: reads the config, calls config.done(), builds the role's app.
std::unique_ptr<App> make_tcp_bulk(const Config& config, Env& env);

class TcpBulkApp final : public App {
public:
    TcpBulkApp(TcpBulkOptions options, TcpEngine& tcp, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log);
    ~TcpBulkApp() override;

    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override {
        return options_.role == TcpBulkOptions::Role::client || options_.connections > 0;
    }
    void visit_counters(const CounterVisitor& visit) const override;
    const std::vector<BulkResult>& results() const noexcept { return results_; }

private:
    Task<void> accept_loop();
    Task<void> connect_and_transfer();
    Task<void> transfer(TcpStream stream);
    void record(const BulkResult& result);
    void write_report() const;
    std::string describe(const BulkResult& r) const;

    TcpBulkOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    std::vector<const BulkTransfer*> live_;  ///< transfers in progress (their frames own them)
    std::vector<BulkResult> results_;
    bool finished_called_ = false;

    std::uint64_t connections_ = 0;  ///< opened or accepted
    std::uint64_t errors_ = 0;       ///< transfers that failed

    TaskScope scope_;  // last: destroyed first, with the coroutines using the rest
};

}  // namespace netloom::apps
