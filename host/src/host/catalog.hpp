// catalog.hpp — finds plugins by name and hands out objects that keep their code loaded.
//
// Contract: `find(name, kind)` returns the plugin's descriptor after checking, in this order, that
// the file loads, exports a descriptor, has our ABI version, has the expected kind and is
// available on this machine; each failure throws PluginError naming the file, what was expected
// and what was found. `instantiate` runs the factory and returns a shared_ptr whose deleter holds
// the library, so no object can outlive its code (docs/design.md, lifetime rule).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/plugin.hpp"

namespace netloom::host {

class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PluginHandle {
    const PluginDescriptor* descriptor = nullptr;
    std::shared_ptr<void> library;  // null in the static build
    std::string file;               // "(built in)" in the static build
};

struct PluginListing {
    std::string name, kind, version, description, file;
    std::string unavailable;  // empty when usable here
    std::string error;        // set when the file could not be read as a plugin
};

class PluginCatalog {
public:
    explicit PluginCatalog(std::vector<std::string> search_path);
    const std::vector<std::string>& search_path() const { return search_path_; }

    /// `name` is a plugin name ("tap") or a path to a file ("./x.so").
    PluginHandle find(const std::string& name, PluginKind expected) const;
    /// Every plugin file on the search path (or every registered plugin, static build).
    std::vector<PluginListing> list() const;

private:
    std::vector<std::string> search_path_;
};

/// Throws PluginError saying what replaced it when `name` is a retired plugin name (`tcp_echo`,
/// merged into the `echo` app in issue 13), so an old config fails with the way forward even if
/// a stale plugin file of that name is still on the search path. Does nothing otherwise.
void refuse_retired_name(const std::string& name);

/// Runs the factory; wraps errors that are not ConfigErrors into a ConfigError at `config`.
std::shared_ptr<PluginObject> create_object(const PluginHandle& plugin, const Config& config,
                                            Env& env);

template <typename Interface>
std::shared_ptr<Interface> instantiate(const PluginHandle& plugin, const Config& config, Env& env) {
    std::shared_ptr<PluginObject> object = create_object(plugin, config, env);
    // The kind was checked against the descriptor; every plugin of a kind derives from its
    // interface.
    return std::static_pointer_cast<Interface>(object);
}

/// The default search path: --plugin-path, NETLOOM_PLUGIN_PATH, the config's plugin_path,
/// <dir of the executable>/../lib/netloom/plugins (an installed, possibly relocated tree), the
/// build tree, the configured install prefix (in that order; duplicates dropped).
std::vector<std::string> default_search_path(const std::vector<std::string>& cli,
                                             const std::vector<std::string>& from_config);

}  // namespace netloom::host
