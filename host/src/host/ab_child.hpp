// ab_child.hpp — one measurement of the A/B harness: a child `netloom run` on a derived config,
// and what it left behind (exit status, CPU time, counters, app reports).
//
// Contract: `run_child` starts `argv` in a process group of its own, with stdout and stderr
// going to `log_path`, stdin from /dev/null and SIGCHLD, SIGPIPE, SIGINT, SIGTERM at their
// defaults; waits at most `timeout` (or, when `interruptible`, until `ab_interrupted()`), then
// kills the whole group with SIGKILL — also after a normal exit, so nothing it started in the
// background outlives it — and returns its status and user+system CPU time from wait4's
// rusage. A child whose status cannot be read (reaped elsewhere) is a spawn_error, never a
// success. The interruption flag is set from a signal handler (`set_ab_interrupted` is
// async-signal-safe). `collect_run` reads the reports and stats.json a
// run wrote: metrics (numbers under each report's "metrics"; a metric reported by several apps
// is their mean), `retransmits` summed over every `<stack>/tcp` component, `cpu_seconds`, the
// first report's `timeline`, and why the run failed (empty when it did not). Missing or
// malformed files make the run failed with a message; nothing here throws for bad content.
// The reason names the cause, most specific first: an app's own error from its report (with
// the exit status), else the timeout or the signal that ended the child, else the child log's
// first error-level line; the log's last line only when nothing better was written.
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
    int signal = 0;        // the signal that ended it, 0 when it exited
    bool timed_out = false;
    bool interrupted = false;  // killed because ab_interrupted() became true
    double cpu_seconds = 0;
    double wall_seconds = 0;
    std::string spawn_error;  // set when the child could not be started
};

AbChildResult run_child(const std::vector<std::string>& argv, const std::string& log_path,
                        std::chrono::nanoseconds timeout, bool interruptible = true);

void set_ab_interrupted() noexcept;
bool ab_interrupted() noexcept;
void clear_ab_interrupted() noexcept;

struct AbRunOutcome {
    std::map<std::string, double> metrics;
    nlohmann::json timeline;  // null when no report had one
    std::string failure;      // empty: the run succeeded
};

AbRunOutcome collect_run(const AbChildResult& child, const std::vector<AbReportSlot>& reports,
                         const std::string& stats_path, const std::string& log_path);

/// A name as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'.
std::string file_safe(const std::string& name);
/// `text` in single quotes for /bin/sh, with every ' written as '\''.
std::string shell_quote(const std::string& text);

/// The last `lines` lines of a text file ("" when unreadable).
std::string file_tail(const std::string& path, std::size_t lines);

/// The first line of a child's log written at level error or critical, without its time
/// stamp, or one the host wrote itself ("netloom: error: ...", "netloom: uncaught exception
/// in a task: ..."; not "netloom: note: ..."); "" when there is none.
std::string first_error_line(const std::string& path);

}  // namespace netloom::host
