// engine_config.hpp — tcp_classic's configuration: the keys every TCP engine reads
// (tcp_common/engine_options.hpp, the only place their defaults live), plus the secrets the
// engine draws at construction.
#pragma once

#include <optional>

#include "netloom/tcp_common/engine_options.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::classic {

struct EngineConfig : tcp::EngineOptions {
    tcp::SipKey isn_key{};  ///< RFC 6528 3 (drawn by the engine)
    tcp::SipKey ts_key{};   ///< RFC 7323 5.4 per-connection TSval offset (drawn by the engine)
    /// Seeds the engine's secrets (tcp_common/secret_seed.hpp): the factory sets it under a
    /// virtual clock; unset, the secrets come from getrandom(2).
    std::optional<std::uint64_t> secret_seed;
};

inline EngineConfig read_engine_config(const netloom::Config& config) {
    EngineConfig e;
    static_cast<tcp::EngineOptions&>(e) = tcp::read_engine_options(config);
    return e;
}

}  // namespace netloom::classic
