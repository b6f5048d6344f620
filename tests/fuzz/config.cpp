// Fuzzes the host's YAML config loading the way `netloom check` does it (host/src/host/cli.cpp
// command_run with check_only): Config::load_string, the `log:` section, the `ab:` plan, and a
// Runtime composed with check_only, which builds every stack's scheduler, checksum, block
// devices, device chain, IP layer, TCP engine and apps from the plugins of the build tree
// (NETLOOM_PLUGIN_PATH, or the build's plugin directory) and validates their keys, acquiring
// nothing (Env::check_only: no TAP device, file or thread).
// Checks: any input ends in success or in a ConfigError or PluginError (a plugin that is not
// there or refuses to load) whose message is not empty; any other exception, crash, leak or UB
// is a bug. Inputs naming paths (a scalar with '/' before a letter, '.' or '~', or with "..",
// a plugin_path key) are skipped: they could make a plugin that ignores check_only touch files.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "ab_plan.hpp"
#include "catalog.hpp"
#include "fuzz_check.hpp"
#include "logging.hpp"
#include "netloom/config.hpp"
#include "runtime.hpp"

using namespace netloom;
using namespace netloom::host;

namespace {

bool names_a_path(std::string_view s) {
    if (s.find("..") != std::string_view::npos || s.find("plugin_path") != std::string_view::npos)
        return true;
    for (std::size_t i = s.find('/'); i != std::string_view::npos; i = s.find('/', i + 1)) {
        if (i + 1 == s.size()) return true;
        const char next = s[i + 1];
        if (next == '.' || next == '~' || next == '/' ||
            std::isalpha(static_cast<unsigned char>(next)))
            return true;
    }
    return false;
}

bool any_path(const YAML::Node& node, int depth = 0) {
    if (depth > 64) return true;  // Config refuses deeper nesting anyway; nothing to learn
    switch (node.Type()) {
        case YAML::NodeType::Scalar: return names_a_path(node.Scalar());
        case YAML::NodeType::Sequence:
            for (const auto& item : node)
                if (any_path(item, depth + 1)) return true;
            return false;
        case YAML::NodeType::Map:
            for (const auto& item : node)
                if (any_path(item.first, depth + 1) || any_path(item.second, depth + 1))
                    return true;
            return false;
        default: return false;
    }
}

std::string plugin_dir() {
    const char* env = std::getenv("NETLOOM_PLUGIN_PATH");
    return env ? env : NETLOOM_FUZZ_PLUGIN_DIR;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        if (any_path(YAML::Load(std::string(text)))) return 0;
    } catch (const std::exception&) {
        // Not YAML: Config::load_string must say so as a ConfigError below.
    }
    static const PluginCatalog catalog({plugin_dir()});
    try {
        const Config root = Config::load_string(text, "fuzz.yaml");
        Logging logging;
        logging.configure(root.child("log", true), "off");
        if (root.has("ab")) (void)AbPlan::from_config(root);
        Runtime runtime(root, catalog, logging, /*check_only=*/true);
        (void)runtime.stack_count();
    } catch (const ConfigError& e) {
        FUZZ_CHECK(std::strlen(e.what()) > 0);
    } catch (const PluginError& e) {
        FUZZ_CHECK(std::strlen(e.what()) > 0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "not a ConfigError: %s\n", e.what());
        FUZZ_CHECK(!"an error other than ConfigError or PluginError");
    }
    return 0;
}
