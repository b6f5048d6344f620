// The A/B harness's preflight: plugin availability, then every variant x workload composed
// without running, a composition error pinned to the line of the user's file that caused it.
#include "ab_check.hpp"

#include <map>

#include "runtime.hpp"

namespace netloom::host {
namespace {

// The path, as keys and "[i]" indexes, of the deepest node of `node` that starts at 1-based
// (line, column): where a ConfigError on a derived document points.
bool path_at(const YAML::Node& node, int line, int column, std::vector<std::string>& path) {
    auto at = [&](const YAML::Node& n) {
        return !n.Mark().is_null() && n.Mark().line + 1 == line && n.Mark().column + 1 == column;
    };
    auto below = [&](const YAML::Node& key, const YAML::Node& value, std::string segment) {
        path.push_back(std::move(segment));
        if (path_at(value, line, column, path) || at(key) || at(value)) return true;
        path.pop_back();
        return false;
    };
    if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (it->first.IsScalar() && below(it->first, it->second, it->first.Scalar()))
                return true;
        }
    } else if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
            if (below(YAML::Node(), node[i], "[" + std::to_string(i) + "]")) return true;
        }
    }
    return false;
}

// How many leading segments of `path` the dotted `pattern` ('*' matching any key) matches,
// comparing min(pattern, path) segments; -1 at the first mismatch. So `pattern` holds `path`
// when the result is the pattern's length, and lies inside it when it is the path's length.
int pattern_match(const std::string& pattern, const std::vector<std::string>& path,
                  std::size_t& pattern_size) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot; (dot = pattern.find('.', start)) != std::string::npos; start = dot + 1)
        parts.push_back(pattern.substr(start, dot - start));
    parts.push_back(pattern.substr(start));
    pattern_size = parts.size();
    const std::size_t n = std::min(parts.size(), path.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (parts[i] != "*" && parts[i] != path[i]) return -1;
    }
    return static_cast<int>(n);
}

// Whether `workload` composes on the base without any variant's overrides.
bool composes_plain(const AbPlan& plan, const AbWorkload& workload, const PluginCatalog& catalog,
                    Logging& logging) {
    AbVariant plain;
    std::vector<AbReportSlot> reports;
    try {
        Runtime runtime(Config::load_string(
                            to_yaml(plan.derive(plain, workload, "/ab-check", reports)), "plain"),
                        catalog, logging, true);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// Where a composition error of (variant, workload) belongs in the user's file: the override
// whose path holds the failing key; else the workload's app holding it; else, when the
// workload fails on the base alone too, the workload; else an override below the failing key
// (a mapping missing something), else the variant.
SourceMark blame(const AbPlan& plan, const AbVariant& variant, const AbWorkload& workload,
                 const std::string& document, const std::exception& error,
                 const PluginCatalog& catalog, Logging& logging) {
    std::vector<std::string> path;
    if (const auto* e = dynamic_cast<const ConfigError*>(&error); e && e->mark().line > 0) {
        try {
            path_at(YAML::Load(document), e->mark().line, e->mark().column, path);
        } catch (const YAML::Exception&) {
            path.clear();
        }
    }
    const AbOverride* inside = nullptr;  // an override that sets something below the key
    for (const AbOverride& o : variant.overrides) {
        if (path.empty()) break;
        std::size_t size = 0;
        const int matched = pattern_match(o.path, path, size);
        if (matched < 0) continue;
        if (static_cast<std::size_t>(matched) == size) return o.mark;  // the key is in its value
        if (!inside) inside = &o;
    }
    if (path.size() >= 4 && path[0] == "stacks" && path[2] == "apps") {
        auto app = workload.app_marks.find(path[1] + ".apps" + path[3]);
        if (app != workload.app_marks.end()) return app->second;
    }
    if (!composes_plain(plan, workload, catalog, logging)) return workload.mark;
    return inside ? inside->mark : variant.mark;
}

}  // namespace

void check_ab_plan(AbPlan& plan, const PluginCatalog& catalog, Logging& logging) {
    // A variant or workload naming a plugin this machine lacks (not built, or unavailable like
    // `simd` without AVX2) is skipped with a note, not an error: the rest can still be compared.
    std::map<std::string, std::string> why_not;  // plugin name -> why it cannot be used here
    bool listed = false;
    auto missing = [&](const std::vector<std::string>& names) -> std::string {
        for (const std::string& name : names) {
            if (name.find('/') != std::string::npos) continue;  // a file: the check will tell
            if (!listed) {
                for (const auto& p : catalog.list()) {
                    why_not[p.name] = !p.error.empty() ? p.error : p.unavailable;
                }
                listed = true;
            }
            auto it = why_not.find(name);
            if (it == why_not.end()) return "no plugin named '" + name + "' on the search path";
            if (!it->second.empty()) return "plugin '" + name + "': " + it->second;
        }
        return {};
    };
    for (AbVariant& variant : plan.variants)
        variant.unavailable = missing(AbPlan::plugins_named(variant));
    for (AbWorkload& workload : plan.workloads) {
        workload.unavailable = missing(AbPlan::plugins_named(workload));
    }
    for (const AbVariant& variant : plan.variants) {
        if (!variant.unavailable.empty()) continue;
        for (const AbWorkload& workload : plan.workloads) {
            if (!workload.unavailable.empty()) continue;
            std::vector<AbReportSlot> reports;
            const std::string document =
                to_yaml(plan.derive(variant, workload, "/ab-check", reports));
            const std::string name =
                "(variant " + variant.name + ", workload " + workload.name + ")";
            try {
                Runtime runtime(Config::load_string(document, name), catalog, logging, true);
            } catch (const std::exception& e) {
                const auto* config_error = dynamic_cast<const ConfigError*>(&e);
                const std::string what = config_error ? config_error->detail() : e.what();
                throw ConfigError(blame(plan, variant, workload, document, e, catalog, logging),
                                  "variant '" + variant.name + "' with workload '" + workload.name +
                                      "': " + what);
            }
        }
    }
}

}  // namespace netloom::host
