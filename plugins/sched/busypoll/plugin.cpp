// Registers the `busypoll` scheduler: reads its config and builds a BusyPollScheduler.
#include <memory>

#include "busypoll_scheduler.hpp"
#include "loop_config.hpp"
#include "netloom/config.hpp"
#include "netloom/plugin.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_busypoll_scheduler(const netloom::Config& config,
                                                               netloom::Env& /*env*/) {
    netloom::sched::BusyPollOptions options;
    options.max_events = netloom::sched::read_max_events(config);
    config.done();
    return std::make_unique<netloom::sched::BusyPollScheduler>(options);
}

}  // namespace

NETLOOM_PLUGIN(busypoll_scheduler_plugin, scheduler, "busypoll", "1.0.0",
               "loop that never sleeps: polls devices, fds and timers on every turn",
               &make_busypoll_scheduler, nullptr);
