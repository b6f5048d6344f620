// The static-build catalog: plugins are the descriptors NETLOOM_PLUGIN registered at start-up.
#include "catalog.hpp"
#include "netloom/static_registry.hpp"

namespace netloom::host {

PluginCatalog::PluginCatalog(std::vector<std::string> search_path)
    : search_path_(std::move(search_path)) {}

PluginHandle PluginCatalog::find(const std::string& name, PluginKind expected) const {
    refuse_retired_name(name);
    for (const PluginDescriptor* d : static_plugin_table()) {
        if (name != d->name) continue;
        if (d->abi_version != kAbiVersion)
            throw PluginError("built-in plugin '" + name + "': ABI mismatch");
        if (d->kind != expected) {
            throw PluginError("built-in plugin '" + name + "' is a " +
                              std::string(to_string(d->kind)) + " plugin, expected a " +
                              std::string(to_string(expected)) + " plugin here");
        }
        if (d->unavailable) {
            if (const char* why = d->unavailable())
                throw PluginError("built-in plugin '" + name +
                                  "' cannot run on this machine: " + why);
        }
        return PluginHandle{d, nullptr, "(built in)"};
    }
    throw PluginError("no plugin named '" + name + "' is built into this image");
}

std::vector<PluginListing> PluginCatalog::list() const {
    std::vector<PluginListing> out;
    for (const PluginDescriptor* d : static_plugin_table()) {
        PluginListing item{
            d->name, std::string(to_string(d->kind)), d->version, d->description, "(built in)", "",
            ""};
        if (d->unavailable) {
            if (const char* why = d->unavailable()) item.unavailable = why;
        }
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace netloom::host
