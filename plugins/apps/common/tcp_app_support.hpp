// tcp_app_support.hpp — small pieces the TCP apps (echo, tcp_bulk, tcp_conns, rr, iperf3, http...)
// share: config readers, clocks for reports, writing a JSON report file, and a client's words for
// a failed connect.
//
// Contract: the config readers fail with ConfigError at the key (never return a bad value).
// `write_json_report` writes `path` whole or not at all (a sibling temporary file
// renamed into place) and throws std::runtime_error naming the path when it cannot.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "netloom/config.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "stream.hpp"

namespace netloom::apps {

/// App-side buffer for one recv/send call: large enough that the app is never the bottleneck.
inline constexpr std::size_t kTcpAppChunk = 64 * 1024;

/// A unicast IPv4 address under `key` (required).
Ipv4Address read_target(const Config& config, std::string_view key = "target");
/// A TCP port 1..65535 under `key`, with an optional default.
std::uint16_t read_port(const Config& config, std::string_view key,
                        std::optional<std::uint16_t> fallback = {});
/// Refuses any of `keys` present on this app, explaining that they belong to the other role.
void refuse_keys(const Config& config, std::initializer_list<std::string_view> keys,
                 std::string_view why);

/// Short machine-friendly names for reports: "reset", "refused", "timed_out"...
std::string_view tcp_error_key(TcpError error) noexcept;

/// User + system CPU time of the whole process so far (getrusage RUSAGE_SELF), in seconds.
double process_cpu_seconds() noexcept;
inline double to_seconds(Time t) noexcept {
    return static_cast<double>(t.count()) / 1e9;
}
/// Bits per second / 1e9; 0 when no time passed.
inline double gbit_per_s(std::uint64_t bytes, double seconds) noexcept {
    return seconds > 0 ? static_cast<double>(bytes) * 8.0 / seconds / 1e9 : 0.0;
}

/// The TcpInfo counters a report carries (retransmits, rto_count, fast_retransmits,
/// sack_recoveries) added to `report`.
void add_tcp_info(nlohmann::json& report, const TcpInfo& info);

void write_json_report(const std::string& path, const nlohmann::json& report);
/// Runs `write` (a client writing its report, which may throw): false, after logging the error
/// as "<who>: <what>", when it threw.
bool report_logged(spdlog::logger& log, std::string_view who, const std::function<void()>& write);

/// A failed connect in a client's words: "connect to 10.0.0.2:80: refused (the engine's detail)".
/// `failed`: the empty stream tcp_connect returned.
std::string connect_failure(const TcpStream& failed, const TcpEndpoint& remote);

}  // namespace netloom::apps
