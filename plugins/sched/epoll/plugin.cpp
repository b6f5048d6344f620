// Registers the `epoll` scheduler: reads its config and builds an EpollScheduler.
#include <memory>

#include "epoll_scheduler.hpp"
#include "loop_config.hpp"
#include "netloom/config.hpp"
#include "netloom/plugin.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_epoll_scheduler(const netloom::Config& config,
                                                            netloom::Env& /*env*/) {
    netloom::sched::EpollOptions options;
    options.max_events = netloom::sched::read_max_events(config);
    options.timer_slack = netloom::sched::read_timer_slack(config, options.timer_slack);
    config.done();
    return std::make_unique<netloom::sched::EpollScheduler>(options);
}

}  // namespace

NETLOOM_PLUGIN(epoll_scheduler_plugin, scheduler, "epoll", "1.0.0",
               "event loop that blocks in epoll when idle and runs everything ready (lwt-like)",
               &make_epoll_scheduler, nullptr);
