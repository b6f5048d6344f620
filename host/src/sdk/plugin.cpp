// Names of plugin kinds, as written in configs and printed by `netloom plugins`.
#include "netloom/plugin.hpp"

namespace netloom {

std::string_view to_string(PluginKind kind) noexcept {
    switch (kind) {
        case PluginKind::driver: return "driver";
        case PluginKind::ip: return "ip";
        case PluginKind::tcp: return "tcp";
        case PluginKind::checksum: return "checksum";
        case PluginKind::scheduler: return "scheduler";
        case PluginKind::app: return "app";
        case PluginKind::block: return "block";
    }
    return "unknown";
}

}  // namespace netloom
