// static_registry.hpp — the table NETLOOM_PLUGIN fills in the static build (empty otherwise).
#pragma once

#include <vector>

#include "netloom/plugin.hpp"

namespace netloom {
std::vector<const PluginDescriptor*>& static_plugin_table();
}
