// The dynamic-build catalog: plugins are shared objects named netloom_<name>.so on the search
// path, loaded with Boost.DLL; each exports one descriptor under `netloom_plugin_descriptor`.
#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <map>

#include "catalog.hpp"

namespace netloom::host {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDescriptorSymbol = "netloom_plugin_descriptor";

std::string kind_name(std::uint32_t raw) {
    switch (raw) {
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 6:
        case 7: return std::string(to_string(static_cast<PluginKind>(raw)));
    }
    return "unknown kind " + std::to_string(raw);
}

// Loads `file` and checks it is a netloom plugin with our ABI. The library handle is cached so a
// plugin used by several stacks is loaded once.
PluginHandle load_checked(const fs::path& file) {
    static std::map<std::string, std::shared_ptr<boost::dll::shared_library>> loaded;
    std::string key = fs::absolute(file).lexically_normal().string();
    std::shared_ptr<boost::dll::shared_library> library;
    if (auto it = loaded.find(key); it != loaded.end()) {
        library = it->second;
    } else {
        boost::dll::fs::error_code ec;
        library = std::make_shared<boost::dll::shared_library>(
            file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
        if (ec || !library->is_loaded()) {
            throw PluginError(file.string() + ": not a loadable shared object (" + ec.message() +
                              ")");
        }
        loaded.emplace(key, library);
    }
    if (!library->has(kDescriptorSymbol)) {
        throw PluginError(file.string() +
                          ": a shared object but not a netloom plugin (it exports no '" +
                          kDescriptorSymbol + "')");
    }
    const auto& descriptor = library->get_alias<const PluginDescriptor>(kDescriptorSymbol);
    if (descriptor.abi_version != kAbiVersion) {
        throw PluginError(file.string() + ": plugin ABI version " +
                          std::to_string(descriptor.abi_version) + ", this netloom expects " +
                          std::to_string(kAbiVersion) + " (rebuild the plugin against this SDK)");
    }
    return PluginHandle{&descriptor, library, file.string()};
}

bool looks_like_path(const std::string& name) {
    return name.find('/') != std::string::npos || name.ends_with(".so");
}

}  // namespace

PluginCatalog::PluginCatalog(std::vector<std::string> search_path)
    : search_path_(std::move(search_path)) {}

PluginHandle PluginCatalog::find(const std::string& name, PluginKind expected) const {
    refuse_retired_name(name);
    fs::path file;
    if (looks_like_path(name)) {
        file = name;
        if (!fs::exists(file)) throw PluginError(name + ": no such plugin file");
    } else {
        for (const auto& dir : search_path_) {
            fs::path candidate = fs::path(dir) / ("netloom_" + name + ".so");
            if (fs::exists(candidate)) {
                file = candidate;
                break;
            }
        }
        if (file.empty()) {
            std::string dirs;
            for (const auto& d : search_path_) dirs += (dirs.empty() ? "" : ":") + d;
            throw PluginError("no plugin named '" + name + "' (looked for netloom_" + name +
                              ".so in " + (dirs.empty() ? "an empty search path" : dirs) + ")");
        }
    }
    PluginHandle handle = load_checked(file);
    const PluginDescriptor& d = *handle.descriptor;
    if (d.kind != expected) {
        throw PluginError(handle.file + ": plugin '" + d.name + "' is a " +
                          kind_name(static_cast<std::uint32_t>(d.kind)) + " plugin, expected a " +
                          std::string(to_string(expected)) + " plugin here");
    }
    if (!looks_like_path(name) && name != d.name) {
        throw PluginError(handle.file + ": file is named for '" + name +
                          "' but the plugin calls itself '" + d.name + "'");
    }
    if (d.unavailable) {
        if (const char* why = d.unavailable()) {
            throw PluginError(handle.file + ": plugin '" + d.name +
                              "' cannot run on this machine: " + why);
        }
    }
    return handle;
}

std::vector<PluginListing> PluginCatalog::list() const {
    std::vector<PluginListing> out;
    std::map<std::string, bool> seen;
    for (const auto& dir : search_path_) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            auto fname = entry.path().filename().string();
            if (fname.starts_with("netloom_") && fname.ends_with(".so"))
                files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            std::string stem = file.filename().string();
            stem = stem.substr(8, stem.size() - 8 - 3);
            if (seen[stem]) continue;  // earlier directories shadow later ones
            seen[stem] = true;
            PluginListing item;
            item.file = file.string();
            item.name = stem;
            try {
                PluginHandle h = load_checked(file);
                const PluginDescriptor& d = *h.descriptor;
                item.name = d.name;
                item.kind = kind_name(static_cast<std::uint32_t>(d.kind));
                item.version = d.version;
                item.description = d.description;
                if (d.unavailable) {
                    if (const char* why = d.unavailable()) item.unavailable = why;
                }
            } catch (const std::exception& e) {
                item.error = e.what();
            }
            out.push_back(std::move(item));
        }
    }
    return out;
}

}  // namespace netloom::host
