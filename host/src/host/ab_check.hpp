// ab_check.hpp — the A/B harness's preflight, run before any measurement (and by
// `netloom check` on a config with an `ab:` section).
//
// Contract: `check_ab_plan` marks variants and workloads that name a plugin missing or
// unavailable here as unavailable (they are reported and skipped, not errors) and composes
// every other variant × workload without running it; a composition error throws ConfigError at
// the override whose path holds the failing key, else at the workload's app holding it, else at
// the workload when it fails without any override too, else at the variant.
#pragma once

#include "ab_plan.hpp"
#include "catalog.hpp"
#include "logging.hpp"

namespace netloom::host {

void check_ab_plan(AbPlan& plan, const PluginCatalog& catalog, Logging& logging);

}  // namespace netloom::host
