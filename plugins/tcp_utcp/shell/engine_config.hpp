// engine_config.hpp — the `tcp: {use: tcp_utcp, ...}` keys: the core's per-connection
// parameters (utcp::Config) plus what only the shell uses (listener bounds, SYN cookies, ports).
//
// Contract: `read_engine_config` reads every key through netloom::Config (so bad values are
// ConfigErrors at file:line:column) and does not call done(); the plugin factory does.
#pragma once

#include <cstdint>
#include <optional>

#include "core/segment.hpp"
#include "netloom/config.hpp"

namespace netloom::utcp {

struct EngineConfig {
    Config core;                            ///< per-connection parameters (isn_key drawn later)
    std::uint32_t backlog = 128;            ///< completed connections waiting for accept()
    std::uint32_t syn_backlog = 256;        ///< half-open connections per listener
    bool syn_cookies = true;                ///< answer with cookies when syn_backlog is full
    std::uint32_t max_connections = 65536;  ///< sockets in the table (beyond: cookies or drop)
    std::uint32_t max_time_wait = 16384;    ///< TIME-WAIT sockets (beyond: closed at once)
    std::uint16_t ephemeral_first = 49152;  ///< RFC 6335 6 dynamic port range
    std::uint16_t ephemeral_last = 65535;
    /// Seeds the engine's secrets; the factory sets it (tcp_common/secret_seed.hpp). Unset (an
    /// engine built directly, in a unit test): std::random_device.
    std::optional<std::uint64_t> secret_seed;
};

EngineConfig read_engine_config(const netloom::Config& config);

}  // namespace netloom::utcp
