// Registers the `blkbench` app; the benchmark lives in blkbench.cpp.
#include "netloom/plugin.hpp"
#include "blkbench.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::apps::make_blkbench(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_app_blkbench, app, "blkbench", "1.0.0",
               "Block device benchmark: random or sequential reads or writes, IOPS, MB/s, "
               "latency percentiles, JSON report",
               &create, nullptr);
