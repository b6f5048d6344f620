// engine_options.hpp — the keys of a `tcp:` engine (tcp_utcp and tcp_classic read the same
// ones, with the same defaults and bounds, so a config swaps engines by changing `use:` alone).
//
// Contract: `read_engine_options` reads every key through netloom::Config (a bad value is a
// ConfigError at file:line:column: sizes are checked in 64 bits before they narrow, durations
// must be positive) and does not call done(); the plugin factory does. The last fields are not
// keys: the engine fills them (ISN key) or uses them as given (ephemeral range).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "netloom/config.hpp"
#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::tcp {

struct EngineOptions {
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
    /// Seeds the engine's secrets; the factory sets it (secret_seed.hpp). Unset (an engine built
    /// directly, in a unit test): std::random_device.
    std::optional<std::uint64_t> secret_seed;
};

EngineOptions read_engine_options(const netloom::Config& config);

}  // namespace netloom::tcp
