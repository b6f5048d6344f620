// engine_options.cpp — the keys every TCP engine reads (see tcp_utcp's README for the table).
#include "netloom/tcp_common/engine_options.hpp"

#include <string>

namespace netloom::tcp {

namespace {

using std::chrono::nanoseconds;

/// A byte size between `min` and `max`, compared in 64 bits so that a value past 4 GiB is
/// rejected rather than silently wrapped by the narrowing to 32 bits.
std::uint32_t bounded_size(const netloom::Config& c, std::string_view key, std::uint32_t fallback,
                           std::uint64_t min, std::uint64_t max) {
    const std::uint64_t bytes = c.get_size(key, fallback);
    if (bytes < min || bytes > max)
        c.fail_message(key, std::string(key) + " must be " + std::to_string(min) + ".." +
                                std::to_string(max) + " bytes");
    return static_cast<std::uint32_t>(bytes);
}

/// A strictly positive duration, at most `max` (a zero timer would spin the scheduler).
nanoseconds positive_duration(const netloom::Config& c, std::string_view key, nanoseconds fallback,
                              nanoseconds max = std::chrono::hours(24)) {
    const nanoseconds value = c.get_duration(key, fallback);
    if (value <= nanoseconds::zero() || value > max)
        c.fail_message(key, std::string(key) + " must be positive and at most " +
                                std::to_string(max.count()) + "ns");
    return value;
}

std::uint32_t bounded_count(const netloom::Config& c, std::string_view key, std::uint32_t fallback,
                            std::int64_t min, std::int64_t max) {
    return static_cast<std::uint32_t>(c.get_int(key, fallback, min, max));
}

}  // namespace

EngineOptions read_engine_options(const netloom::Config& c) {
    EngineOptions e;
    e.mss = static_cast<std::uint16_t>(c.get_int("mss", e.mss, 64, 65495));
    e.rcvbuf = bounded_size(c, "rcvbuf", e.rcvbuf, 1024, 1u << 30);
    e.sndbuf = bounded_size(c, "sndbuf", e.sndbuf, 1024, 1u << 30);
    e.window_scaling = c.get_bool("window_scaling", e.window_scaling);
    e.sack = c.get_bool("sack", e.sack);
    e.timestamps = c.get_bool("timestamps", e.timestamps);
    e.cubic = c.get_choice("cc", {"newreno", "cubic"}, "cubic") == "cubic";
    e.msl = positive_duration(c, "msl", e.msl);
    e.max_retransmits = bounded_count(c, "max_retransmits", e.max_retransmits, 1, 100);
    e.max_syn_retransmits = bounded_count(c, "syn_retransmits", e.max_syn_retransmits, 1, 100);
    e.connect_timeout = positive_duration(c, "connect_timeout", e.connect_timeout);
    e.challenge_ack_limit =
        bounded_count(c, "challenge_ack_limit", e.challenge_ack_limit, 1, 1000000);
    e.rto.min_rto = positive_duration(c, "rto_min", e.rto.min_rto);
    e.rto.max_rto = positive_duration(c, "rto_max", e.rto.max_rto);
    e.rto.initial_rto = positive_duration(c, "rto_initial", e.rto.initial_rto);
    if (e.rto.min_rto > e.rto.max_rto) c.fail_message("rto_min", "rto_min must not exceed rto_max");
    e.delayed_ack = c.get_bool("delayed_ack", e.delayed_ack);
    // RFC 1122 4.2.3.2: an ACK must not be delayed by more than 0.5 s.
    e.delack_timeout =
        positive_duration(c, "delack_timeout", e.delack_timeout, std::chrono::milliseconds(500));
    e.fin_wait_2_timeout = positive_duration(c, "fin_wait_2_timeout", e.fin_wait_2_timeout);
    e.keepalive = c.get_bool("keepalive", e.keepalive);
    e.keepalive_idle = positive_duration(c, "keepalive_idle", e.keepalive_idle);
    e.keepalive_interval = positive_duration(c, "keepalive_interval", e.keepalive_interval);
    e.keepalive_count = bounded_count(c, "keepalive_count", e.keepalive_count, 1, 1000);
    e.backlog = bounded_count(c, "backlog", e.backlog, 1, 65535);
    e.syn_backlog = bounded_count(c, "syn_backlog", e.syn_backlog, 1, 65535);
    e.syn_cookies = c.get_bool("syn_cookies", e.syn_cookies);
    e.max_connections = bounded_count(c, "max_connections", e.max_connections, 1, 1 << 22);
    e.max_time_wait = bounded_count(c, "max_time_wait", e.max_time_wait, 0, 1 << 22);
    e.nodelay = c.get_bool("nodelay", e.nodelay);
    return e;
}

}  // namespace netloom::tcp
