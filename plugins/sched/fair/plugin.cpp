// Registers the `fair` scheduler: reads its config and builds a FairScheduler.
#include <memory>

#include "fair_scheduler.hpp"
#include "loop_config.hpp"
#include "netloom/config.hpp"
#include "netloom/plugin.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_fair_scheduler(const netloom::Config& config,
                                                           netloom::Env& /*env*/) {
    netloom::sched::FairOptions options;
    options.quantum = static_cast<std::size_t>(config.get_int("quantum", 64, 1, 1 << 20));
    options.max_events = netloom::sched::read_max_events(config);
    options.timer_slack = netloom::sched::read_timer_slack(config, options.timer_slack);
    config.done();
    return std::make_unique<netloom::sched::FairScheduler>(options);
}

}  // namespace

NETLOOM_PLUGIN(fair_scheduler_plugin, scheduler, "fair", "1.0.0",
               "round-robin over runnable work with I/O polled every quantum (miou-like)",
               &make_fair_scheduler, nullptr);
