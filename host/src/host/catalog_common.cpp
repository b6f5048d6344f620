// Parts of the catalog shared by the dynamic and the static build: the search path and the
// factory call with its error translation.
#include <cstdlib>
#include <filesystem>

#include "catalog.hpp"

namespace netloom::host {

std::vector<std::string> default_search_path(const std::vector<std::string>& cli,
                                             const std::vector<std::string>& from_config) {
    std::vector<std::string> path;
    auto add = [&](const std::string& dir) {
        if (dir.empty()) return;
        for (const auto& p : path)
            if (p == dir) return;
        path.push_back(dir);
    };
    for (const auto& d : cli) add(d);
    if (const char* env = std::getenv("NETLOOM_PLUGIN_PATH")) {
        std::string list = env;
        std::size_t start = 0;
        while (start <= list.size()) {
            std::size_t colon = list.find(':', start);
            add(list.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    for (const auto& d : from_config) add(d);
    // Beside an installed executable (<prefix>/bin/netloom -> <prefix>/lib/netloom/plugins), so
    // an install works wherever its prefix is moved.
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) add((self.parent_path().parent_path() / "lib" / "netloom" / "plugins").string());
#ifdef NETLOOM_BUILD_PLUGIN_DIR
    add(NETLOOM_BUILD_PLUGIN_DIR);
#endif
#ifdef NETLOOM_INSTALL_PLUGIN_DIR
    add(NETLOOM_INSTALL_PLUGIN_DIR);
#endif
    return path;
}

void refuse_retired_name(const std::string& name) {
    struct Retired {
        const char* name;
        const char* message;
    };
    static constexpr Retired kRetired[] = {
        {"tcp_echo",
         "the app 'tcp_echo' is now 'echo' (RFC 862 server and checking client in one app): "
         "write `use: echo`; `role`, `port`, `target`, `bytes`, `seed`, `connections` and "
         "`parallel` keep their meaning"},
    };
    for (const Retired& r : kRetired) {
        if (name == r.name) throw PluginError(r.message);
    }
}

std::shared_ptr<PluginObject> create_object(const PluginHandle& plugin, const Config& config,
                                            Env& env) {
    const PluginDescriptor& d = *plugin.descriptor;
    std::unique_ptr<PluginObject> object;
    try {
        object = d.create(config, env);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& e) {
        config.fail_message("", std::string("plugin '") + d.name + "' (" + plugin.file +
                                    ") could not be created: " + e.what());
    }
    if (!object) {
        config.fail_message("", std::string("plugin '") + d.name + "' returned no object");
    }
    // The deleter owns a reference to the library: the object's code stays mapped until the
    // object is gone, whatever order the host drops its handles in.
    std::shared_ptr<void> library = plugin.library;
    return std::shared_ptr<PluginObject>(object.release(),
                                         [library](PluginObject* p) { delete p; });
}

}  // namespace netloom::host
