// The `ab:` section: validation through the Config getters, and derived documents built on a
// copy of the YAML tree (the harness writes each one to a file and runs it in a child process).
#include "ab_plan.hpp"

#include <algorithm>

namespace netloom::host {
namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = path.find('.', start);
        parts.push_back(path.substr(start, dot == std::string::npos ? dot : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}

// yaml-cpp's non-const operator[] would insert a missing key while looking: search instead.
YAML::Node find_key(const YAML::Node& map, const std::string& key) {
    if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

int set_below(YAML::Node node, const std::vector<std::string>& parts, std::size_t i,
              const YAML::Node& value) {
    if (!node.IsMap()) return 0;
    const bool last = i + 1 == parts.size();
    if (parts[i] == "*") {
        int changed = 0;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (last) {
                it->second = YAML::Clone(value);
                ++changed;
            } else {
                changed += set_below(it->second, parts, i + 1, value);
            }
        }
        return changed;
    }
    if (last) {
        node[parts[i]] = YAML::Clone(value);
        return 1;
    }
    YAML::Node next = find_key(node, parts[i]);
    if (!next.IsDefined()) return 0;
    return set_below(next, parts, i + 1, value);
}

std::string joined_keys(const YAML::Node& map) {
    std::string out;
    for (auto it = map.begin(); it != map.end(); ++it) {
        out += (out.empty() ? "" : ", ") + it->first.Scalar();
    }
    return out;
}

}  // namespace

int apply_override(YAML::Node root, const std::string& path, const YAML::Node& value) {
    const auto parts = split_path(path);
    for (const auto& p : parts) {
        if (p.empty()) return 0;  // "a..b", ".a", "a.": never a real place
    }
    return set_below(root, parts, 0, value);
}

std::string to_yaml(const YAML::Node& node) {
    YAML::Emitter out;
    out << node;
    return std::string(out.c_str()) + "\n";
}

AbPlan AbPlan::from_config(const Config& root) {
    if (!root.has("ab")) {
        root.fail_message("", "no `ab:` section: `netloom ab` needs ab.variants and ab.workloads");
    }
    AbPlan plan;
    // The tree the derived documents start from; the Config view is kept for marks and checks.
    // yaml-cpp does not always read back what its emitter wrote (found by tests/fuzz/config:
    // control bytes in a key): that is the document's fault, so it is a ConfigError, not a crash.
    YAML::Node document;
    try {
        document = YAML::Load(root.dump());
    } catch (const YAML::Exception& e) {
        root.fail_message("", std::string("cannot copy this document for the variants (yaml-cpp "
                                          "cannot read back its own output: ") +
                                  e.what() + "); `netloom check` names what is wrong in it");
    }
    plan.base = YAML::Clone(document);
    plan.base.remove("ab");
    const YAML::Node ab_node = find_key(document, "ab");

    const Config ab = root.child("ab");
    plan.runs = static_cast<int>(ab.get_int("runs", 3, 1, 1000));
    plan.json = ab.get_string("json", plan.json);
    plan.chart = ab.get_string("chart", plan.chart);
    plan.linux_reference = ab.get_bool("linux_reference", false);
    plan.timeout = ab.get_duration("timeout", plan.timeout, std::chrono::nanoseconds(1));

    const Config variants = ab.child("variants");
    const YAML::Node variant_nodes = find_key(ab_node, "variants");
    for (const std::string& name : variants.keys()) {
        if (name == "linux") {
            variants.fail_message(name,
                                  "the variant name 'linux' is reserved for the Linux "
                                  "reference row (ab.linux_reference): choose another");
        }
        const Config v = variants.child(name, true);
        AbVariant variant{name, {}, variants.mark(name), {}};
        const YAML::Node entries = find_key(variant_nodes, name);
        for (const std::string& path : v.keys()) {
            AbOverride o{path, YAML::Clone(find_key(entries, path)), v.mark(path)};
            YAML::Node probe = YAML::Clone(plan.base);
            if (apply_override(probe, path, o.value) == 0) {
                v.fail_message(path, "override '" + path + "' of variant '" + name +
                                         "' matches nothing in the config (the keys before the "
                                         "last must exist; '*' matches any key)");
            }
            if (path == "stacks" || path.rfind("stacks.", 0) == 0) {
                const auto parts = split_path(path);
                if (parts.size() >= 3 && parts[2] == "apps") {
                    v.fail_message(path, "a variant cannot change apps: the workload sets them");
                }
            }
            variant.overrides.push_back(std::move(o));
        }
        plan.variants.push_back(std::move(variant));
    }
    if (plan.variants.empty()) variants.fail_message("", "at least one variant is needed");

    const YAML::Node stacks = find_key(plan.base, "stacks");
    const Config workloads = ab.child("workloads");
    const YAML::Node workload_nodes = find_key(ab_node, "workloads");
    for (const std::string& name : workloads.keys()) {
        const Config w = workloads.child(name);
        AbWorkload workload{name, YAML::Node(YAML::NodeType::Map), workloads.mark(name), {}, {}};
        const YAML::Node entries = find_key(workload_nodes, name);
        for (const std::string& stack : w.keys()) {
            if (!find_key(stacks, stack).IsDefined()) {
                w.fail_message(stack, "workload '" + name + "' names stack '" + stack +
                                          "', which the config does not have (stacks: " +
                                          joined_keys(stacks) + ")");
            }
            std::size_t index = 0;
            for (const Config& app : w.child_list(stack)) {
                if (!app.has("use")) app.fail_missing("use", "the app's plugin name");
                workload.app_marks[stack + ".apps[" + std::to_string(index++) + "]"] = app.mark();
            }
            workload.apps_by_stack[stack] = YAML::Clone(find_key(entries, stack));
        }
        if (workload.apps_by_stack.size() == 0) {
            workloads.fail_message(name, "workload '" + name + "' has no apps");
        }
        plan.workloads.push_back(std::move(workload));
    }
    if (plan.workloads.empty()) workloads.fail_message("", "at least one workload is needed");
    ab.done();
    return plan;
}

YAML::Node AbPlan::derive(const AbVariant& variant, const AbWorkload& workload,
                          const std::string& run_dir, std::vector<AbReportSlot>& reports) const {
    YAML::Node doc = YAML::Clone(base);
    for (const AbOverride& o : variant.overrides) apply_override(doc, o.path, o.value);
    if (!find_key(doc, "run").IsMap()) doc["run"] = YAML::Node(YAML::NodeType::Map);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    doc["run"]["duration"] = std::to_string(ms) + "ms";  // the child's own hang guard
    YAML::Node stacks = doc["stacks"];
    for (auto it = stacks.begin(); it != stacks.end(); ++it) {
        const std::string stack = it->first.Scalar();
        YAML::Node apps = YAML::Clone(find_key(workload.apps_by_stack, stack));
        if (!apps.IsSequence()) apps = YAML::Node(YAML::NodeType::Sequence);
        for (std::size_t i = 0; i < apps.size(); ++i) {
            YAML::Node app = apps[i];
            const YAML::Node role = find_key(app, "role");
            const bool client = role.IsScalar() && role.Scalar() == "client";
            if (!client && !find_key(app, "report").IsDefined()) continue;
            const YAML::Node use = find_key(app, "use");
            AbReportSlot slot;
            slot.app = stack + "/app" + std::to_string(i) + "/" +
                       (use.IsScalar() ? use.Scalar() : std::string("?"));
            slot.path = run_dir + "/" + stack + ".app" + std::to_string(i) + ".json";
            app["report"] = slot.path;
            reports.push_back(std::move(slot));
        }
        it->second["apps"] = apps;
    }
    return doc;
}

void AbPlan::shorten(std::uint64_t divisor) {
    if (divisor <= 1) return;
    shortened *= divisor;
    for (AbWorkload& workload : workloads) {
        for (auto stack = workload.apps_by_stack.begin(); stack != workload.apps_by_stack.end();
             ++stack) {
            YAML::Node apps = stack->second;
            if (!apps.IsSequence()) continue;
            for (YAML::Node app : apps) {
                // Counts and sizes shrink alike (a size parses plain numbers too).
                for (const char* key : {"bytes", "count", "transactions"}) {
                    const YAML::Node value = find_key(app, key);
                    if (!value.IsScalar()) continue;
                    if (auto n = parse_size(value.Scalar()))
                        app[key] = std::to_string(std::max<std::uint64_t>(1, *n / divisor));
                }
                const YAML::Node duration = find_key(app, "duration");
                if (!duration.IsScalar()) continue;
                if (auto d = parse_duration(duration.Scalar())) {
                    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*d);
                    app["duration"] =
                        std::to_string(std::max<std::int64_t>(1000, us.count() / divisor)) + "us";
                }
            }
        }
    }
}

std::vector<std::string> AbPlan::plugins_named(const AbVariant& variant) {
    std::vector<std::string> names;
    for (const AbOverride& o : variant.overrides) {
        const bool use_path =
            o.path == "use" ||
            (o.path.size() > 4 && o.path.compare(o.path.size() - 4, 4, ".use") == 0);
        if (use_path && o.value.IsScalar()) {
            names.push_back(o.value.Scalar());
        } else if (o.value.IsMap()) {
            const YAML::Node use = find_key(o.value, "use");
            if (use.IsScalar()) names.push_back(use.Scalar());
        }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace netloom::host

namespace netloom::host {

std::vector<std::string> AbPlan::plugins_named(const AbWorkload& workload) {
    std::vector<std::string> names;
    for (auto stack = workload.apps_by_stack.begin(); stack != workload.apps_by_stack.end();
         ++stack) {
        const YAML::Node apps = stack->second;  // a named copy: the iterator's is temporary
        if (!apps.IsSequence()) continue;
        for (const auto& app : apps) {
            const YAML::Node use = find_key(app, "use");
            if (use.IsScalar()) names.push_back(use.Scalar());
        }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace netloom::host
