// ab_results.hpp — what a finished A/B shows and writes: the table, the results JSON and the
// chart's data, all built from the record of every run.
//
// Contract: pure (no I/O, no clock but the JSON's "finished" stamp). Values hold only
// successful runs; a failed run is known by its record, whose `outcome.failure` says why. In
// the table a variant without a successful run in a workload reads "no successful run: <why>"
// (the first failed run's reason), and a block whose variants lost some runs ends with one
// "note:" line per such variant (how many failed, the first reason). The JSON lists every run
// with its `error` (and, for a failed one, its `log`), the summaries and ratios to the first
// variant with a successful run. The chart has a bar group per workload that reports the
// panel's metric: throughput, latency p50/p99, connections per second, bytes per idle
// connection; cwnd and SRTT lines from each variant's first bulk timeline.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ab_chart.hpp"
#include "ab_child.hpp"
#include "ab_plan.hpp"
#include "netloom/config.hpp"

namespace netloom::host {

struct AbRunRecord {
    int rep = 0;
    std::string workload, variant, dir;
    AbChildResult child;
    AbRunOutcome outcome;
};

/// workload -> variant -> metric -> values of the successful runs
using AbValues =
    std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>>;

/// The figure the progress line shows: the first standard metric the run produced.
std::string run_headline(const std::map<std::string, double>& metrics);

/// The table: one block per workload, one row per variant in `variant_names`.
std::string ab_tables_text(const AbPlan& plan, const std::vector<std::string>& variant_names,
                           const AbValues& values, const std::vector<AbRunRecord>& records,
                           int runs);

/// Every run, the summaries, the variants' definitions and the machine.
nlohmann::json ab_results_json(const Config& root, const AbPlan& plan, int runs,
                               const std::vector<AbRunRecord>& records,
                               const std::vector<std::string>& variant_names,
                               const AbValues& values);

/// The chart's bars and lines; `timelines` is variant -> the first bulk sender's timeline.
AbChartData ab_chart_data(const std::string& title, const std::vector<std::string>& variants,
                          const std::vector<std::string>& workloads, const AbValues& values,
                          const std::map<std::string, nlohmann::json>& timelines);

}  // namespace netloom::host
