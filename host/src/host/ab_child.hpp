// ab_child.hpp — one measurement of the A/B harness: a child `netloom run` on a derived config,
// and what it left behind (exit status, CPU time, counters, app reports).
//
// Contract: `run_child` starts `argv` with stdout and stderr going to `log_path` and stdin from
// /dev/null, waits at most `timeout` (then kills it with SIGKILL), and returns its status and
// user+system CPU time from wait4's rusage. `collect_run` reads the reports and stats.json a
// run wrote: metrics (numbers under each report's "metrics"; a metric reported by several apps
// is their mean), `retransmits` summed over every `<stack>/tcp` component, `cpu_seconds`, the
// first report's `timeline`, and why the run failed (empty when it did not). Missing or
// malformed files make the run failed with a message; nothing here throws for bad content.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ab_plan.hpp"

namespace netloom::host {

struct AbChildResult {
    int exit_status = -1;  // exit code, or 128 + signal
    bool timed_out = false;
    double cpu_seconds = 0;
    double wall_seconds = 0;
    std::string spawn_error;  // set when the child could not be started
};

AbChildResult run_child(const std::vector<std::string>& argv, const std::string& log_path,
                        std::chrono::nanoseconds timeout);

struct AbRunOutcome {
    std::map<std::string, double> metrics;
    nlohmann::json timeline;  // null when no report had one
    std::string failure;      // empty: the run succeeded
};

AbRunOutcome collect_run(const AbChildResult& child, const std::vector<AbReportSlot>& reports,
                         const std::string& stats_path, const std::string& log_path);

/// The last `lines` lines of a text file ("" when unreadable).
std::string file_tail(const std::string& path, std::size_t lines);

}  // namespace netloom::host
