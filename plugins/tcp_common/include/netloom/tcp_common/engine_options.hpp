// engine_options.hpp — the keys of a `tcp:` engine (tcp_utcp and tcp_classic read the same
// ones, with the same defaults and bounds, so a config swaps engines by changing `use:` alone).
// This file is the only place a TCP default or bound is written: the engines' own config types
// derive from these structs instead of repeating them.
//
// Contract: `read_engine_options` reads every key through netloom::Config (a bad value is a
// ConfigError at file:line:column: sizes are checked in 64 bits before they narrow, durations
// must be positive unless said otherwise) and does not call done(); the plugin factory does.
// `visit_engine_options` names every effective value, for tests and diagnostics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "netloom/config.hpp"
#include "netloom/tcp_common/rto.hpp"

namespace netloom::tcp {

/// What every connection of an engine shares (one immutable copy per engine).
struct ConnectionOptions {
    std::uint16_t mss = 1460;           ///< MSS we advertise (clamped to MTU - 40 by the engine)
    std::uint32_t rcvbuf = 256 * 1024;  ///< receive buffer: unread + out-of-order bytes
    std::uint32_t sndbuf = 256 * 1024;  ///< send buffer: unacked + unsent bytes
    bool window_scaling = true;         ///< RFC 7323 2
    bool sack = true;                   ///< offer SACK-permitted and send SACK blocks (RFC 2018)
    bool timestamps = true;             ///< RFC 7323 3
    bool cubic = true;                  ///< `cc: cubic` (else NewReno)
    std::chrono::nanoseconds msl = std::chrono::seconds(30);  ///< TIME-WAIT lasts 2 * msl
    std::uint32_t max_retransmits = 15;     ///< data: give up after this many RTOs in a row
    std::uint32_t max_syn_retransmits = 6;  ///< SYN / SYN-ACK retransmissions
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(75);  ///< RFC 1122 4.2.3.5
    std::uint32_t challenge_ack_limit = 1000;  ///< per second, engine-wide (RFC 5961 7)
    tcp::RtoConfig rto;
    bool nodelay = false;  ///< default for new connections: Nagle (RFC 896) off when true
    /// RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK every second full-sized segment, else after
    /// delack_timeout (at most 500 ms by the RFC).
    bool delayed_ack = true;
    std::chrono::nanoseconds delack_timeout = std::chrono::milliseconds(40);
    /// FIN-WAIT-2 after the user closed both directions: give up on the peer's FIN after this.
    std::chrono::nanoseconds fin_wait_2_timeout = std::chrono::seconds(60);
    /// RFC 1122 4.2.3.6: off by default; probes after `keepalive_idle` without a segment from
    /// the peer, every `keepalive_interval`, and give up after `keepalive_count` unanswered.
    bool keepalive = false;
    std::chrono::nanoseconds keepalive_idle = std::chrono::hours(2);
    std::chrono::nanoseconds keepalive_interval = std::chrono::seconds(75);
    std::uint32_t keepalive_count = 9;
};

/// The whole `tcp:` section: per-connection options plus what the engine itself bounds.
struct EngineOptions : ConnectionOptions {
    std::uint32_t backlog = 128;      ///< completed connections waiting for accept()
    std::uint32_t syn_backlog = 256;  ///< half-open connections per listener
    bool syn_cookies = true;          ///< answer with cookies when syn_backlog is full
    /// `syn_cookies: always` (implies syn_cookies): every SYN to a listener is answered with a
    /// cookie and no state, like Linux's tcp_syncookies=2 (RFC 4987 3.6). Meant for tests:
    /// the SYN-ACK is never retransmitted and the connections run without window scaling,
    /// SACK and timestamps, which a cookie does not carry (syn_cookie.hpp).
    bool syn_cookies_always = false;
    std::uint32_t max_connections = 65536;  ///< connections in the table (TIME-WAIT included)
    /// Connections in TIME-WAIT; past it a closing connection goes straight to CLOSED (like
    /// Linux's tcp_max_tw_buckets). Above the ephemeral range, so that a client opening
    /// connections at the highest rate the range allows keeps every TIME-WAIT.
    std::uint32_t max_time_wait = 65536;
    /// `ephemeral_ports: 32768-60999`: where active opens take their local port (Linux's
    /// ip_local_port_range default; RFC 6056 2.1 recommends using as wide a range as possible).
    std::uint16_t ephemeral_first = 32768;
    std::uint16_t ephemeral_last = 60999;
    /// An active open may reuse a 4-tuple in TIME-WAIT (RFC 6191 applied to the closing side, as
    /// Linux's tcp_tw_reuse does) once it has waited this long; 0 leaves only the timestamp rule.
    std::chrono::nanoseconds time_wait_reuse_delay = std::chrono::seconds(1);
    /// `memory_limit`: bytes every connection of the engine may hold together (objects,
    /// send rings, receive rings and pinned packet buffers, out-of-order data), like Linux's
    /// tcp_mem (memory_budget.hpp). 0: unlimited. The default is fixed (not a share of the
    /// host's RAM) so a simulation replays alike everywhere, and generous: one bulk connection
    /// holds at most ~1 MiB with the default buffers, so only thousands of stalled readers or
    /// writers reach it.
    std::uint64_t memory_limit = std::uint64_t{1} << 30;
};

EngineOptions read_engine_options(const netloom::Config& config);

/// Calls `visit(key, value)` for every effective value, with the key as written in YAML.
void visit_engine_options(const EngineOptions& options,
                          const std::function<void(std::string_view, std::string)>& visit);
void visit_connection_options(const ConnectionOptions& options,
                              const std::function<void(std::string_view, std::string)>& visit);

}  // namespace netloom::tcp
