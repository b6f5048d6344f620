// Registers the `sim` scheduler (no config keys).
#include <memory>

#include "netloom/config.hpp"
#include "netloom/plugin.hpp"
#include "sim_scheduler.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_sim_scheduler(const netloom::Config& config,
                                                          netloom::Env& /*env*/) {
    config.done();
    return std::make_unique<netloom::sched::SimScheduler>();
}

}  // namespace

NETLOOM_PLUGIN(sim_scheduler_plugin, scheduler, "sim", "1.0.0",
               "virtual clock that jumps to the next timer when idle: deterministic runs",
               &make_sim_scheduler, nullptr);
