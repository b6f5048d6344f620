// engine_config.cpp — tcp_utcp's configuration from the keys every TCP engine reads
// (tcp_common/engine_options.hpp): the per-connection ones also go into the core's Config.
#include "shell/engine_config.hpp"

namespace netloom::utcp {

EngineConfig make_engine_config(const tcp::EngineOptions& options) {
    EngineConfig e;
    static_cast<tcp::EngineOptions&>(e) = options;
    static_cast<tcp::ConnectionOptions&>(e.core) = options;
    return e;
}

EngineConfig read_engine_config(const netloom::Config& c) {
    return make_engine_config(tcp::read_engine_options(c));
}

}  // namespace netloom::utcp
