// engine_config.hpp — the `tcp: {use: tcp_classic, ...}` keys. They are the same keys, with the
// same defaults, as tcp_utcp's, so a config swaps engines by changing `use:` alone.
//
// Contract: `read_engine_config` reads every key through netloom::Config (bad values become
// ConfigErrors at file:line:column) and does not call done(); the plugin factory does. The
// fields after the YAML keys are filled by the engine (ISN key, MSS clamped to the MTU).
#pragma once

#include <chrono>
#include <cstdint>

#include "netloom/config.hpp"
#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::classic {

struct EngineConfig {
    std::uint16_t mss = 1460;  ///< MSS we advertise (clamped to MTU - 40 by the engine)
    std::uint32_t rcvbuf = 256 * 1024;
    std::uint32_t sndbuf = 256 * 1024;
    bool window_scaling = true;
    bool sack = true;  ///< offer SACK-permitted and send SACK blocks (RFC 2018)
    bool timestamps = true;
    bool cubic = true;
    std::chrono::nanoseconds msl = std::chrono::seconds(30);
    std::uint32_t max_retransmits = 15;
    std::uint32_t max_syn_retransmits = 6;
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(75);
    std::uint32_t challenge_ack_limit = 1000;  ///< per second, engine-wide (RFC 5961 7)
    tcp::RtoConfig rto;
    std::uint32_t backlog = 128;
    std::uint32_t syn_backlog = 256;
    bool syn_cookies = true;
    std::uint32_t max_connections = 65536;
    std::uint32_t max_time_wait = 16384;  ///< connections in TIME-WAIT; past it, closed at once
    bool nodelay = false;
    bool delayed_ack = true;
    std::chrono::nanoseconds delack_timeout = std::chrono::milliseconds(40);
    std::chrono::nanoseconds fin_wait_2_timeout = std::chrono::seconds(60);
    bool keepalive = false;
    std::chrono::nanoseconds keepalive_idle = std::chrono::hours(2);
    std::chrono::nanoseconds keepalive_interval = std::chrono::seconds(75);
    std::uint32_t keepalive_count = 9;
    std::uint16_t ephemeral_first = 49152;  ///< RFC 6335 6 dynamic port range
    std::uint16_t ephemeral_last = 65535;
    tcp::SipKey isn_key{};  ///< drawn by the engine (RFC 6528 3)
};

EngineConfig read_engine_config(const netloom::Config& config);

}  // namespace netloom::classic
