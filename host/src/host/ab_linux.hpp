// ab_linux.hpp — the Linux kernel as a reference row of the A/B table: two network namespaces
// joined by a veth pair, measured in the same run as the netloom variants.
//
// Contract: `measure_linux_reference` needs root (CAP_NET_ADMIN) and iperf3; without them it
// returns no values and a `note` saying why. It measures the workloads it knows how to mirror:
// a workload whose client app is `tcp_bulk` (iperf3 -J for the same byte count) and one whose
// client app is `rr` in mode `rr` (a Python socket loop of the same size and count,
// ab_linux_rr.py, found beside the executable; without it those workloads are skipped with a
// note). The namespaces it creates are removed, with every process left in them, before it
// returns, also on failure, an exception or an interruption (ab_interrupted(): it stops after
// the current measurement). Workload names only reach the shell as file-safe names inside quoted
// paths. `linux_run_values` reads one measurement's JSON output; a value that matters being absent
// or not a number (iperf3 -J prints "end": {} on an error) makes it nullopt: a failed run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ab_plan.hpp"

namespace netloom::host {

struct LinuxReference {
    std::string note;  // why some or all of it was skipped; empty when everything ran
    // workload -> metric -> one value per repetition
    std::map<std::string, std::map<std::string, std::vector<double>>> values;
    nlohmann::json to_json() const;
};

LinuxReference measure_linux_reference(const AbPlan& plan, int runs);

/// bulk: iperf3 -J output -> throughput_gbit_s (end.sum_received) and retransmits
/// (end.sum_sent, 0 when absent); else the rr loop's "metrics" numbers.
std::optional<std::map<std::string, double>> linux_run_values(const nlohmann::json& out, bool bulk);

}  // namespace netloom::host
