// The compile-time plugin table of the static build. Registrations run during static
// initialisation, so the table is a function-local static (no initialisation-order problem).
#include <vector>

#include "netloom/plugin.hpp"
#include "netloom/static_registry.hpp"

namespace netloom {

std::vector<const PluginDescriptor*>& static_plugin_table() {
    static std::vector<const PluginDescriptor*> table;
    return table;
}

detail::StaticRegistration::StaticRegistration(const PluginDescriptor& descriptor) {
    static_plugin_table().push_back(&descriptor);
}

}  // namespace netloom
