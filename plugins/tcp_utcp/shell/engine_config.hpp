// engine_config.hpp — the `tcp: {use: tcp_utcp, ...}` keys: every key of
// tcp_common/engine_options.hpp (which alone holds their defaults and bounds), with the
// per-connection part copied into the core's Config.
//
// Contract: `read_engine_config` reads every key through netloom::Config (so bad values are
// ConfigErrors at file:line:column) and does not call done(); the plugin factory does.
#pragma once

#include <cstdint>
#include <optional>

#include "core/segment.hpp"
#include "netloom/config.hpp"
#include "netloom/tcp_common/engine_options.hpp"

namespace netloom::utcp {

struct EngineConfig : tcp::EngineOptions {
    Config core;  ///< the per-connection options as the core reads them (secrets drawn later)
    /// Seeds the engine's secrets (tcp_common/secret_seed.hpp): the factory sets it under a
    /// virtual clock; unset, the secrets come from getrandom(2).
    std::optional<std::uint64_t> secret_seed;
};

/// The engine options with `core` filled from them.
EngineConfig make_engine_config(const tcp::EngineOptions& options);
EngineConfig read_engine_config(const netloom::Config& config);

}  // namespace netloom::utcp
