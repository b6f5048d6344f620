// engine_config.cpp — YAML keys of tcp_utcp (see README.md for the table).
#include "shell/engine_config.hpp"

#include <string>

namespace netloom::utcp {

namespace {

using std::chrono::nanoseconds;

/// A size key checked in 64 bits before it narrows (so 4GiB+64KiB is an error, not 64 KiB).
std::uint32_t size_key(const netloom::Config& c, std::string_view key, std::uint32_t fallback,
                       std::uint64_t min, std::uint64_t max) {
    const std::uint64_t value = c.get_size(key, fallback);
    if (value < min || value > max) {
        c.fail_message(key, std::string(key) + " must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + " bytes");
    }
    return static_cast<std::uint32_t>(value);
}

/// A duration key that must be positive and at most `max`.
nanoseconds duration_key(const netloom::Config& c, std::string_view key, nanoseconds fallback,
                         nanoseconds max = std::chrono::hours(24)) {
    const nanoseconds value = c.get_duration(key, fallback);
    if (value <= nanoseconds::zero() || value > max)
        c.fail_message(key, std::string(key) + " must be more than 0 and at most 24h");
    return value;
}

std::uint32_t count_key(const netloom::Config& c, std::string_view key, std::uint32_t fallback,
                        std::int64_t min, std::int64_t max) {
    return static_cast<std::uint32_t>(c.get_int(key, fallback, min, max));
}

}  // namespace

EngineConfig read_engine_config(const netloom::Config& c) {
    EngineConfig e;
    Config& core = e.core;
    // The MSS we advertise: 1460 fits a 1500-byte MTU; the shell clamps it to the device MTU.
    core.mss = static_cast<std::uint16_t>(c.get_int("mss", core.mss, 64, 65495));
    core.rcvbuf = size_key(c, "rcvbuf", core.rcvbuf, 1024, 1u << 30);
    core.sndbuf = size_key(c, "sndbuf", core.sndbuf, 1024, 1u << 30);
    core.window_scaling = c.get_bool("window_scaling", core.window_scaling);
    core.sack = c.get_bool("sack", core.sack);
    core.timestamps = c.get_bool("timestamps", core.timestamps);
    core.cubic = c.get_choice("cc", {"newreno", "cubic"}, "cubic") == "cubic";
    core.msl = duration_key(c, "msl", core.msl);
    core.max_retransmits = count_key(c, "max_retransmits", core.max_retransmits, 1, 100);
    core.max_syn_retransmits = count_key(c, "syn_retransmits", core.max_syn_retransmits, 1, 100);
    core.connect_timeout = duration_key(c, "connect_timeout", core.connect_timeout);
    core.challenge_ack_limit =
        count_key(c, "challenge_ack_limit", core.challenge_ack_limit, 1, 1000000);
    core.rto.min_rto = duration_key(c, "rto_min", core.rto.min_rto);
    core.rto.max_rto = duration_key(c, "rto_max", core.rto.max_rto);
    core.rto.initial_rto = duration_key(c, "rto_initial", core.rto.initial_rto);
    if (core.rto.min_rto > core.rto.max_rto)
        c.fail_message("rto_min", "rto_min must not exceed rto_max");
    core.delayed_ack = c.get_bool("delayed_ack", core.delayed_ack);
    // RFC 1122 4.2.3.2: an ACK must not be delayed more than 0.5 s.
    core.delack_timeout =
        duration_key(c, "delack_timeout", core.delack_timeout, std::chrono::milliseconds(500));
    core.fin_wait_2_timeout = duration_key(c, "fin_wait_2_timeout", core.fin_wait_2_timeout);
    core.keepalive = c.get_bool("keepalive", core.keepalive);
    core.keepalive_idle = duration_key(c, "keepalive_idle", core.keepalive_idle);
    core.keepalive_interval = duration_key(c, "keepalive_interval", core.keepalive_interval);
    core.keepalive_count = count_key(c, "keepalive_count", core.keepalive_count, 1, 1000);
    core.nodelay = c.get_bool("nodelay", core.nodelay);

    e.backlog = count_key(c, "backlog", e.backlog, 1, 65535);
    e.syn_backlog = count_key(c, "syn_backlog", e.syn_backlog, 1, 65535);
    e.syn_cookies = c.get_bool("syn_cookies", e.syn_cookies);
    e.max_connections = count_key(c, "max_connections", e.max_connections, 1, 1 << 22);
    e.max_time_wait = count_key(c, "max_time_wait", e.max_time_wait, 0, 1 << 22);
    return e;
}

}  // namespace netloom::utcp
