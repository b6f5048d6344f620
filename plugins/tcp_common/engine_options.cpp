// engine_options.cpp — the keys every TCP engine reads (see tcp_utcp's README for the table).
#include "netloom/tcp_common/engine_options.hpp"

#include <charconv>

#include <string>
#include "netloom/tcp_common/memory_budget.hpp"

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
    return c.get_duration(key, fallback, nanoseconds(1), max);
}

std::uint32_t bounded_count(const netloom::Config& c, std::string_view key, std::uint32_t fallback,
                            std::int64_t min, std::int64_t max) {
    return static_cast<std::uint32_t>(c.get_int(key, fallback, min, max));
}

/// A whole decimal number in [begin, end), or empty.
std::optional<unsigned> parse_number(const char* begin, const char* end) {
    unsigned value = 0;
    const auto [stop, error] = std::from_chars(begin, end, value);
    if (error != std::errc{} || stop != end || begin == end) return std::nullopt;
    return value;
}

/// `first-last`, both in 1..65535, first <= last (Linux writes ip_local_port_range the same way).
void read_port_range(const netloom::Config& c, std::string_view key, std::uint16_t& first,
                     std::uint16_t& last) {
    const std::string fallback = std::to_string(first) + "-" + std::to_string(last);
    const std::string text = c.get_string(key, fallback);
    const auto dash = text.find('-');
    std::optional<unsigned> lo, hi;
    if (dash != std::string::npos) {
        lo = parse_number(text.data(), text.data() + dash);
        hi = parse_number(text.data() + dash + 1, text.data() + text.size());
    }
    if (!lo || !hi || *lo < 1 || *hi > 65535 || *lo > *hi)
        c.fail_message(key, std::string(key) + " must be FIRST-LAST with 1 <= FIRST <= LAST <= " +
                                "65535 (e.g. 32768-60999), not '" + text + "'");
    first = static_cast<std::uint16_t>(*lo);
    last = static_cast<std::uint16_t>(*hi);
}

/// `syn_cookies`: a boolean (cookies past syn_backlog, or never) or `always` (every SYN).
void read_syn_cookies(const netloom::Config& c, EngineOptions& e) {
    const std::string value = c.get_string("syn_cookies", e.syn_cookies ? "true" : "false");
    e.syn_cookies_always = value == "always";
    if (e.syn_cookies_always || value == "true" || value == "yes" || value == "on") {
        e.syn_cookies = true;
    } else if (value == "false" || value == "no" || value == "off") {
        e.syn_cookies = false;
    } else {
        c.fail_message("syn_cookies",
                       "syn_cookies must be true, false or always, not '" + value + "'");
    }
}

/// `memory_limit`: 0 (unlimited) or min_memory_limit(rcvbuf, sndbuf)..1 TiB.
void read_memory_limit(const netloom::Config& c, EngineOptions& e) {
    const std::uint64_t bytes = c.get_size("memory_limit", e.memory_limit);
    const std::uint64_t min = min_memory_limit(e.rcvbuf, e.sndbuf);
    constexpr std::uint64_t kMax = std::uint64_t{1} << 40;
    if (bytes != 0 && (bytes < min || bytes > kMax))
        c.fail_message("memory_limit", "memory_limit must be 0 (unlimited) or " +
                                           std::to_string(min) + ".." + std::to_string(kMax) +
                                           " bytes (at least 4 x (max(rcvbuf, sndbuf) + " +
                                           std::to_string(kEventSlack) + " + the slice table))");
    e.memory_limit = bytes;
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
    read_syn_cookies(c, e);
    e.max_connections = bounded_count(c, "max_connections", e.max_connections, 1, 1 << 22);
    e.max_time_wait = bounded_count(c, "max_time_wait", e.max_time_wait, 0, 1 << 22);
    e.nodelay = c.get_bool("nodelay", e.nodelay);
    read_port_range(c, "ephemeral_ports", e.ephemeral_first, e.ephemeral_last);
    // Past 2 MSL the TIME-WAIT is gone anyway.
    e.time_wait_reuse_delay = c.get_duration("time_wait_reuse_delay", e.time_wait_reuse_delay,
                                             nanoseconds::zero(), 2 * e.msl);
    read_memory_limit(c, e);
    return e;
}

namespace {

std::string text(bool value) {
    return value ? "true" : "false";
}
std::string text(std::uint64_t value) {
    return std::to_string(value);
}
std::string text(nanoseconds value) {
    return std::to_string(value.count()) + "ns";
}

}  // namespace

void visit_connection_options(const ConnectionOptions& o,
                              const std::function<void(std::string_view, std::string)>& visit) {
    visit("mss", text(std::uint64_t{o.mss}));
    visit("rcvbuf", text(std::uint64_t{o.rcvbuf}));
    visit("sndbuf", text(std::uint64_t{o.sndbuf}));
    visit("window_scaling", text(o.window_scaling));
    visit("sack", text(o.sack));
    visit("timestamps", text(o.timestamps));
    visit("cc", o.cubic ? "cubic" : "newreno");
    visit("msl", text(o.msl));
    visit("max_retransmits", text(std::uint64_t{o.max_retransmits}));
    visit("syn_retransmits", text(std::uint64_t{o.max_syn_retransmits}));
    visit("connect_timeout", text(o.connect_timeout));
    visit("challenge_ack_limit", text(std::uint64_t{o.challenge_ack_limit}));
    visit("rto_min", text(o.rto.min_rto));
    visit("rto_max", text(o.rto.max_rto));
    visit("rto_initial", text(o.rto.initial_rto));
    visit("rto_granularity", text(o.rto.granularity));
    visit("nodelay", text(o.nodelay));
    visit("delayed_ack", text(o.delayed_ack));
    visit("delack_timeout", text(o.delack_timeout));
    visit("fin_wait_2_timeout", text(o.fin_wait_2_timeout));
    visit("keepalive", text(o.keepalive));
    visit("keepalive_idle", text(o.keepalive_idle));
    visit("keepalive_interval", text(o.keepalive_interval));
    visit("keepalive_count", text(std::uint64_t{o.keepalive_count}));
}

void visit_engine_options(const EngineOptions& o,
                          const std::function<void(std::string_view, std::string)>& visit) {
    visit_connection_options(o, visit);
    visit("backlog", text(std::uint64_t{o.backlog}));
    visit("syn_backlog", text(std::uint64_t{o.syn_backlog}));
    visit("syn_cookies", o.syn_cookies && o.syn_cookies_always ? "always" : text(o.syn_cookies));
    visit("max_connections", text(std::uint64_t{o.max_connections}));
    visit("max_time_wait", text(std::uint64_t{o.max_time_wait}));
    visit("ephemeral_ports",
          std::to_string(o.ephemeral_first) + "-" + std::to_string(o.ephemeral_last));
    visit("time_wait_reuse_delay", text(o.time_wait_reuse_delay));
    visit("memory_limit", text(o.memory_limit));
}

}  // namespace netloom::tcp
