// engine_config.hpp — tcp_classic's configuration: the keys every TCP engine reads
// (tcp_common/engine_options.hpp), used as they are.
#pragma once

#include "netloom/tcp_common/engine_options.hpp"

namespace netloom::classic {

using EngineConfig = tcp::EngineOptions;

inline EngineConfig read_engine_config(const netloom::Config& config) {
    return tcp::read_engine_options(config);
}

}  // namespace netloom::classic
