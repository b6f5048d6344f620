// ab_linux.hpp — the Linux kernel as a reference row of the A/B table: two network namespaces
// joined by a veth pair, measured in the same run as the netloom variants.
//
// Contract: `measure_linux_reference` needs root (CAP_NET_ADMIN) and iperf3; without them it
// returns no values and a `note` saying why. It measures the workloads it knows how to mirror:
// a workload whose client app is `tcp_bulk` (iperf3 -J for the same byte count) and one whose
// client app is `rr` in mode `rr` (a Python socket loop of the same size and count). The
// namespaces it creates are removed before it returns, also on failure.
#pragma once

#include <map>
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

}  // namespace netloom::host
