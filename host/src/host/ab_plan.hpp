// ab_plan.hpp — the `ab:` section of a config read into a plan, and the derived configs the
// A/B harness runs (one per variant × workload × repetition).
//
// Contract: `AbPlan::from_config` validates `ab:` with the Config getters (unknown keys, bad
// values, a variant path that matches nothing, a variant named `linux` (the reference row's
// name), a workload naming a stack that does not exist:
// ConfigError at file:line:column) and keeps the rest of the document, without `ab:`, as the
// base. `derive` returns a new document: the base with the variant's overrides applied, every
// stack's `apps` replaced by the workload's apps for that stack (none when the workload does
// not name it), `run.duration` set to the plan's timeout, and a `report:` path inside `run_dir`
// set on every workload app that has `role: client` or already names a `report`. The paths it
// set are returned in `reports`. Nothing here touches the file system.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "netloom/config.hpp"

namespace netloom::host {

/// One `dotted.path: value` of a variant; `*` in the path matches every key of a mapping.
struct AbOverride {
    std::string path;
    YAML::Node value;  // any YAML value: a scalar, a mapping, a list
    SourceMark mark;   // of the value, for errors
};

struct AbVariant {
    std::string name;
    std::vector<AbOverride> overrides;
    SourceMark mark;
    std::string unavailable;  // set by the harness when a plugin the variant names is missing
};

struct AbWorkload {
    std::string name;
    YAML::Node apps_by_stack;  // stack name -> list of app mappings
    SourceMark mark;
    std::map<std::string, SourceMark> app_marks;  // "server.apps[0]" -> where that app is
    std::string unavailable;  // set by the harness when an app plugin it uses is missing
};

/// A report file the derived config asks an app to write.
struct AbReportSlot {
    std::string path;
    std::string app;  // "client/app0/tcp_bulk"
};

struct AbPlan {
    int runs = 3;
    std::vector<AbVariant> variants;
    std::vector<AbWorkload> workloads;
    std::string json = "ab_results.json";
    std::string chart = "ab_chart.svg";
    bool linux_reference = false;
    std::chrono::nanoseconds timeout = std::chrono::seconds(60);
    YAML::Node base;              // the whole document without `ab:`
    std::uint64_t shortened = 1;  // the divisor `shorten` applied (1: the workloads as written)

    /// Reads and validates `root`'s `ab:` section (required: ConfigError when absent).
    static AbPlan from_config(const Config& root);
    YAML::Node derive(const AbVariant& variant, const AbWorkload& workload,
                      const std::string& run_dir, std::vector<AbReportSlot>& reports) const;
    /// Scales every workload down for a smoke run (`netloom ab --short`): each app's `bytes`,
    /// `count` and `transactions` become 1/divisor of their value (at least 1), its
    /// `duration` too (at least 1 ms). A value that does not parse is left for the checks.
    void shorten(std::uint64_t divisor);
    /// Plugin names the variant's overrides select (`...use: x` or `{use: x, ...}` values).
    static std::vector<std::string> plugins_named(const AbVariant& variant);
    /// Plugin names the workload's apps use.
    static std::vector<std::string> plugins_named(const AbWorkload& workload);
};

/// Sets `value` at `path` (dotted, `*` matching every key of a mapping) below `root`; the last
/// key is created when missing, the ones before must exist. Returns the number of places set.
int apply_override(YAML::Node root, const std::string& path, const YAML::Node& value);

/// YAML text of a node (block style, as yaml-cpp emits it).
std::string to_yaml(const YAML::Node& node);

}  // namespace netloom::host
