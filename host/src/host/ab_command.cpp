// The A/B harness loop: alternating runs in child processes, table, JSON, chart.
#include "ab_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "ab_chart.hpp"
#include "ab_check.hpp"
#include "ab_child.hpp"
#include "ab_linux.hpp"
#include "ab_results.hpp"

namespace netloom::host {
namespace {

namespace fs = std::filesystem;

std::string self_exe() {
    std::error_code ec;
    fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("/proc/self/exe") : p.string();
}

void write_file(const std::string& path, const std::string& text) {
    const std::string partial = path + ".partial";
    {
        std::ofstream f(partial);
        f << text;
        if (!f) throw std::runtime_error("cannot write " + partial);
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot write " + path);
}

// One measurement: the derived config written to r.dir, a child `netloom run` on it, and
// what it left behind collected into r.
void measure(const AbPlan& plan, const AbVariant& variant, const AbWorkload& workload,
             const std::vector<std::string>& base_argv, AbRunRecord& r) {
    std::vector<AbReportSlot> reports;
    write_file(r.dir + "/config.yaml", to_yaml(plan.derive(variant, workload, r.dir, reports)));
    std::vector<std::string> argv = base_argv;
    argv.insert(argv.end(), {"run", r.dir + "/config.yaml", "--no-stats", "--stats-json",
                             r.dir + "/stats.json"});
    const std::string log_path = r.dir + "/output.log";
    r.child = run_child(argv, log_path, plan.timeout + std::chrono::seconds(10));
    r.outcome = collect_run(r.child, reports, r.dir + "/stats.json", log_path);
}

// For the length of `netloom ab`: SIGINT and SIGTERM set the interruption flag (the children
// are in their own process groups, so the harness ends them and cleans up; a second signal
// kills as usual), and SIGCHLD is at its default so wait4 can read every child's status.
class AbSignals {
public:
    AbSignals() {
        clear_ab_interrupted();
        struct sigaction on_stop {};
        on_stop.sa_handler = [](int) { set_ab_interrupted(); };
        on_stop.sa_flags = SA_RESETHAND;
        sigemptyset(&on_stop.sa_mask);
        sigaction(SIGINT, &on_stop, &old_int_);
        sigaction(SIGTERM, &on_stop, &old_term_);
        struct sigaction child {};
        child.sa_handler = SIG_DFL;
        sigemptyset(&child.sa_mask);
        sigaction(SIGCHLD, &child, &old_chld_);
    }
    ~AbSignals() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
        sigaction(SIGCHLD, &old_chld_, nullptr);
    }
    AbSignals(const AbSignals&) = delete;
    AbSignals& operator=(const AbSignals&) = delete;

private:
    struct sigaction old_int_ {
    }, old_term_{}, old_chld_{};
};

// The run directories: removed when `netloom ab` leaves by any path (an exception too),
// unless `keep` was set.
struct RunDirectory {
    std::string path;
    bool keep = false;
    ~RunDirectory() {
        std::error_code ec;
        if (!keep) fs::remove_all(path, ec);
    }
};

}  // namespace

int command_ab(const Config& root, const PluginCatalog& catalog, Logging& logging,
               const AbOptions& o) {
    const auto wall_start = std::chrono::steady_clock::now();
    AbPlan plan = AbPlan::from_config(root);
    if (o.shorten) plan.shorten(kAbShortDivisor);
    check_ab_plan(plan, catalog, logging);
    const int runs = o.quick ? 1 : (o.runs > 0 ? o.runs : plan.runs);
    const std::string json_path = o.json.empty() ? plan.json : o.json;
    const std::string chart_path = o.chart.empty() ? plan.chart : o.chart;

    std::vector<const AbVariant*> active;
    for (const auto& v : plan.variants) {
        if (v.unavailable.empty()) {
            active.push_back(&v);
        } else {
            std::fprintf(stderr, "netloom ab: variant %s is not run: %s\n", v.name.c_str(),
                         v.unavailable.c_str());
        }
    }
    std::vector<const AbWorkload*> workloads;
    for (const auto& w : plan.workloads) {
        if (w.unavailable.empty()) {
            workloads.push_back(&w);
        } else {
            std::fprintf(stderr, "netloom ab: workload %s is not run: %s\n", w.name.c_str(),
                         w.unavailable.c_str());
        }
    }
    const AbSignals signals;
    char dir_template[] = "/tmp/netloom-ab-XXXXXX";
    if (!mkdtemp(dir_template)) throw std::runtime_error("cannot create a temporary directory");
    RunDirectory run_directory{dir_template};
    const std::string& top = run_directory.path;

    std::vector<std::string> base_argv{self_exe()};
    if (!o.log_level.empty()) base_argv.insert(base_argv.end(), {"--log-level", o.log_level});
    for (const auto& p : o.plugin_path) base_argv.insert(base_argv.end(), {"--plugin-path", p});

    const std::size_t total = static_cast<std::size_t>(runs) * workloads.size() * active.size();
    std::size_t index = 0;
    std::vector<AbRunRecord> records;
    AbValues values;
    std::map<std::string, nlohmann::json> timelines;  // variant -> first bulk timeline
    bool all_ok =
        active.size() == plan.variants.size() && workloads.size() == plan.workloads.size();
    bool any_failed = false;  // keeps the run directories for reading
    for (int rep = 1; rep <= runs && !ab_interrupted(); ++rep) {
        for (const AbWorkload* w : workloads) {
            const AbWorkload& workload = *w;
            // Alternate: each repetition starts with the next variant, so no variant always
            // runs first (cold caches) or last.
            for (std::size_t k = 0; k < active.size() && !ab_interrupted(); ++k) {
                const AbVariant& variant =
                    *active[(k + static_cast<std::size_t>(rep) - 1) % active.size()];
                AbRunRecord r{rep, workload.name, variant.name, {}, {}, {}};
                r.dir = top + "/" + file_safe(workload.name) + "-" + file_safe(variant.name) + "-" +
                        std::to_string(rep) + "-" + std::to_string(index + 1);
                fs::create_directories(r.dir);
                std::fprintf(stderr, "[%zu/%zu] %s %s run %d/%d ... ", ++index, total,
                             workload.name.c_str(), variant.name.c_str(), rep, runs);
                std::fflush(stderr);
                measure(plan, variant, workload, base_argv, r);
                const std::string log_path = r.dir + "/output.log";
                if (r.outcome.failure.empty()) {
                    std::fprintf(stderr, "%s (%.1f s)\n", run_headline(r.outcome.metrics).c_str(),
                                 r.child.wall_seconds);
                    for (const auto& [name, value] : r.outcome.metrics) {
                        values[workload.name][variant.name][name].push_back(value);
                    }
                    if (!r.outcome.timeline.is_null() && !timelines.count(variant.name)) {
                        timelines[variant.name] = r.outcome.timeline;
                    }
                } else {
                    all_ok = false;
                    any_failed = true;
                    std::fprintf(stderr, "FAILED: %s (log: %s)\n", r.outcome.failure.c_str(),
                                 log_path.c_str());
                }
                records.push_back(std::move(r));
            }
        }
    }

    if (ab_interrupted()) {
        // Nothing half-measured is written; the children are already gone.
        run_directory.keep = o.keep;
        std::fprintf(stderr, "\nnetloom ab: interrupted%s\n",
                     o.keep ? (": run directories kept in " + top).c_str() : "");
        return 130;
    }
    std::vector<std::string> variant_names;
    for (const auto& v : plan.variants) variant_names.push_back(v.name);
    std::optional<LinuxReference> linux_ref;
    if (plan.linux_reference) {
        linux_ref = measure_linux_reference(plan, runs);
        if (!linux_ref->note.empty()) {
            std::fprintf(stderr, "netloom ab: Linux reference: %s\n", linux_ref->note.c_str());
        }
        for (const auto& [workload, metrics] : linux_ref->values) {
            for (const auto& [name, list] : metrics) values[workload]["linux"][name] = list;
        }
        if (!linux_ref->values.empty()) variant_names.push_back("linux");
        if (ab_interrupted()) {
            std::fprintf(stderr, "netloom ab: interrupted\n");
            return 130;
        }
    }

    const std::string text = ab_tables_text(plan, variant_names, values, records, runs);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);

    nlohmann::json out = ab_results_json(root, plan, runs, records, variant_names, values);
    if (linux_ref) out["linux_reference"] = linux_ref->to_json();
    out["wall_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    // Names and child log lines copied into it may hold bytes that are not UTF-8.
    write_file(json_path, out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::vector<std::string> workload_names;
    for (const auto& w : plan.workloads) workload_names.push_back(w.name);
    write_file(chart_path,
               render_svg(ab_chart_data("netloom A/B: " + root.mark().file, variant_names,
                                        workload_names, values, timelines)));
    std::fprintf(stderr, "netloom ab: results in %s, chart in %s\n", json_path.c_str(),
                 chart_path.c_str());
    run_directory.keep = o.keep || any_failed;
    if (run_directory.keep)
        std::fprintf(stderr, "netloom ab: run directories kept in %s\n", top.c_str());
    return all_ok ? 0 : 1;
}

}  // namespace netloom::host
