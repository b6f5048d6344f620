// The A/B's outputs: table text, results JSON and chart data from the runs' records.
#include "ab_results.hpp"

#include <sys/utsname.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <thread>

#include "ab_stats.hpp"

namespace netloom::host {
namespace {

nlohmann::json yaml_to_json(const YAML::Node& node) {
    if (node.IsScalar()) return node.Scalar();
    if (node.IsSequence()) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& item : node) list.push_back(yaml_to_json(item));
        return list;
    }
    if (node.IsMap()) {
        nlohmann::json map = nlohmann::json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
            map[it->first.Scalar()] = yaml_to_json(it->second);
        }
        return map;
    }
    return nullptr;
}

nlohmann::json machine() {
    nlohmann::json m;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string cpu = "unknown";
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos)
                cpu = line.substr(line.find_first_not_of(' ', colon + 1));
            break;
        }
    }
    m["cpu"] = cpu;
    m["cores"] = std::thread::hardware_concurrency();
    utsname u{};
    if (uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release;
    return m;
}

nlohmann::json summary_json(const std::vector<double>& values, const AbSummary* baseline) {
    const AbSummary s = summarize(values);
    nlohmann::json j{{"median", s.median}, {"min", s.min}, {"max", s.max}, {"values", values}};
    if (baseline) {
        auto r = ratio_to(s.median, baseline->median);
        j["ratio"] = r ? nlohmann::json(*r) : nlohmann::json(nullptr);
    }
    return j;
}

}  // namespace

std::string run_headline(const std::map<std::string, double>& metrics) {
    for (const auto& name : standard_metrics()) {
        if (name == "retransmits" || name == "cpu_seconds") continue;
        auto it = metrics.find(name);
        if (it != metrics.end()) return format_number(it->second) + " " + metric_label(name);
    }
    auto it = metrics.find("cpu_seconds");
    return it == metrics.end() ? "" : format_number(it->second) + " cpu s";
}

AbChartData ab_chart_data(const std::string& title, const std::vector<std::string>& variants,
                          const std::vector<std::string>& workloads, const AbValues& values,
                          const std::map<std::string, nlohmann::json>& timelines) {
    AbChartData data;
    data.title = title;
    data.variants = variants;
    auto group = [&](const std::string& workload, const std::string& metric,
                     const std::string& label) {
        AbChartGroup g{label, {}};
        auto w = values.find(workload);
        if (w == values.end()) return g;
        for (const auto& v : variants) {
            auto row = w->second.find(v);
            if (row == w->second.end()) continue;
            auto m = row->second.find(metric);
            if (m == row->second.end() || m->second.empty()) continue;
            const AbSummary s = summarize(m->second);
            g.bars.push_back({v, s.median, s.min, s.max});
        }
        return g;
    };
    // Every workload's headline figure has a panel: a workload appears in each panel whose
    // metric it reports (crr and idle_conns both count connections per second).
    auto add = [&](std::vector<AbChartGroup>& panel, const std::string& workload,
                   const std::string& metric, const std::string& label) {
        if (auto g = group(workload, metric, label); !g.bars.empty()) panel.push_back(g);
    };
    for (const auto& w : workloads) {
        add(data.throughput, w, "throughput_gbit_s", w);
        for (const char* p : {"p50", "p99"})
            add(data.latency, w, std::string("latency_") + p + "_us", w + " " + p);
        add(data.connections, w, "connections_per_s", w);
        add(data.memory, w, "bytes_per_idle_connection", w);
    }
    for (const auto& v : variants) {
        auto t = timelines.find(v);
        if (t == timelines.end()) continue;
        AbChartSeries cwnd = timeline_series(v, t->second, "cwnd", 1.0 / 1024);
        AbChartSeries rtt = timeline_series(v, t->second, "srtt_us", 1.0);
        data.cwnd.push_back(std::move(cwnd));
        data.rtt.push_back(std::move(rtt));
    }
    return data;
}

std::string ab_tables_text(const AbPlan& plan, const std::vector<std::string>& variant_names,
                           const AbValues& values, const std::vector<AbRunRecord>& records,
                           int runs) {
    std::string text;
    for (const AbWorkload& workload : plan.workloads) {
        // variant -> (failed runs, runs): the table must say why a cell is empty or thin.
        std::map<std::string, std::pair<const AbRunRecord*, int>> failed;
        std::map<std::string, int> ran;
        for (const AbRunRecord& r : records) {
            if (r.workload != workload.name) continue;
            ++ran[r.variant];
            if (r.outcome.failure.empty()) continue;
            auto& f = failed[r.variant];
            if (!f.first) f.first = &r;
            ++f.second;
        }
        std::vector<AbTableRow> rows;
        for (const auto& name : variant_names) {
            AbTableRow row{name, {}, {}};
            for (const auto& v : plan.variants) {
                if (v.name == name && !v.unavailable.empty())
                    row.note = "not run: " + v.unavailable;
            }
            auto w = values.find(workload.name);
            if (w != values.end()) {
                auto m = w->second.find(name);
                if (m != w->second.end()) {
                    for (const auto& [metric, list] : m->second)
                        row.metrics[metric] = summarize(list);
                }
            }
            if (row.note.empty() && row.metrics.empty()) {
                if (name == "linux") continue;  // the reference does not run every workload
                auto f = failed.find(name);
                row.note = "no successful run";
                if (f != failed.end()) row.note += ": " + f->second.first->outcome.failure;
            }
            rows.push_back(std::move(row));
        }
        if (!workload.unavailable.empty()) {
            text += "\n" + workload.name + ": not run: " + workload.unavailable + "\n";
            continue;
        }
        const auto baseline = baseline_row(rows);
        text += "\n" + workload.name + " (median of " + std::to_string(runs) + " run" +
                (runs == 1 ? "" : "s") +
                (baseline ? ", ratio to " + rows[*baseline].variant : std::string()) + ")\n";
        text += format_table(rows);
        for (const auto& [variant, f] : failed) {
            if (f.second == ran[variant]) continue;  // its row already says why
            text += "note: " + variant + ": " + std::to_string(f.second) + " of " +
                    std::to_string(ran[variant]) + " runs failed (run " +
                    std::to_string(f.first->rep) + ": " + f.first->outcome.failure + ")\n";
        }
    }
    return text;
}

// JSON: every run, the summaries, the definitions, the machine.
nlohmann::json ab_results_json(const Config& root, const AbPlan& plan, int runs,
                               const std::vector<AbRunRecord>& records,
                               const std::vector<std::string>& variant_names,
                               const AbValues& values) {
    nlohmann::json out;
    out["netloom_version"] = NETLOOM_VERSION;
    out["config"] = root.mark().file;
    out["machine"] = machine();
    out["runs_per_variant"] = runs;
    out["workload_scale"] = 1.0 / static_cast<double>(plan.shortened);  // --short: 0.1
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    out["finished"] = stamp;
    for (const auto& v : plan.variants) {
        nlohmann::json d = nlohmann::json::object();
        for (const auto& ov : v.overrides) d[ov.path] = yaml_to_json(ov.value);
        nlohmann::json item{{"name", v.name}, {"overrides", d}};
        if (!v.unavailable.empty()) item["unavailable"] = v.unavailable;
        out["variants"].push_back(item);
    }
    for (const auto& w : plan.workloads) out["workloads"].push_back(w.name);
    out["runs"] = nlohmann::json::array();
    for (const auto& r : records) {
        nlohmann::json j{{"repetition", r.rep},
                         {"workload", r.workload},
                         {"variant", r.variant},
                         {"ok", r.outcome.failure.empty()},
                         {"exit_status", r.child.exit_status},
                         {"wall_seconds", r.child.wall_seconds},
                         {"metrics", r.outcome.metrics}};
        if (!r.outcome.failure.empty()) {
            j["error"] = r.outcome.failure;
            j["log"] = r.dir + "/output.log";  // kept: a failed run keeps its directory
            out["failures"][r.workload][r.variant].push_back(
                {{"repetition", r.rep}, {"error", r.outcome.failure}});
        }
        if (!r.outcome.timeline.is_null()) j["timeline"] = r.outcome.timeline;
        out["runs"].push_back(j);
    }
    if (!out.contains("failures")) out["failures"] = nlohmann::json::object();
    // Ratios against the table's baseline: the first variant with a successful run.
    nlohmann::json results = nlohmann::json::object();
    nlohmann::json baselines = nlohmann::json::object();
    for (const auto& [workload, by_variant] : values) {
        const std::map<std::string, std::vector<double>>* base = nullptr;
        for (const auto& name : variant_names) {
            auto m = by_variant.find(name);
            if (m == by_variant.end() || m->second.empty()) continue;
            if (!base) {
                base = &m->second;
                baselines[workload] = name;
                for (const auto& [metric, list] : m->second)
                    results[workload][name][metric] = summary_json(list, nullptr);
                continue;
            }
            for (const auto& [metric, list] : m->second) {
                auto b = base->find(metric);
                const AbSummary none{NAN, NAN, NAN, 0};
                const AbSummary bs = b == base->end() ? none : summarize(b->second);
                results[workload][name][metric] = summary_json(list, &bs);
            }
        }
    }
    out["baselines"] = baselines;
    out["results"] = results;
    return out;
}

}  // namespace netloom::host
