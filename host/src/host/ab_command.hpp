// ab_command.hpp — `netloom ab CONFIG`: the A/B harness. Runs every workload of the config's
// `ab:` section over every variant, several repetitions, each measurement in its own child
// process, and prints a table of medians with ratios to the first variant that has a
// successful run (the header names it); writes JSON and an SVG chart.
//
// Contract: `command_ab` first runs the preflight (`check_ab_plan`, ab_check.hpp), then returns
// 0 when every run of every available variant succeeded, 1 otherwise (a failed run is kept out
// of the medians and its directory is kept for reading), 130 after SIGINT or SIGTERM (the running
// child's process group is killed, the Linux reference's namespaces removed, the temporary
// directory removed unless --keep, no results written), and throws ConfigError for
// configuration errors. Its temporary directory is removed on every exit path unless kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ab_plan.hpp"
#include "catalog.hpp"
#include "logging.hpp"
#include "netloom/config.hpp"

namespace netloom::host {

/// `--short`: how much smaller every workload's bytes, counts and durations become.
inline constexpr std::uint64_t kAbShortDivisor = 10;

struct AbOptions {
    int runs = 0;                          // 0: ab.runs
    std::string json;                      // empty: ab.json
    std::string chart;                     // empty: ab.chart
    bool quick = false;                    // one repetition
    bool shorten = false;                  // workloads at 1/kAbShortDivisor of their size
    bool keep = false;                     // keep the run directories
    std::vector<std::string> plugin_path;  // passed on to the children
    std::string log_level;                 // passed on to the children
};

int command_ab(const Config& root, const PluginCatalog& catalog, Logging& logging,
               const AbOptions& options);

}  // namespace netloom::host
