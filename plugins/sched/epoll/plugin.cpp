// Registers the `epoll` scheduler: reads its config and builds an EpollScheduler.
#include <memory>

#include "epoll_scheduler.hpp"
#include "netloom/config.hpp"
#include "netloom/plugin.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_epoll_scheduler(const netloom::Config& config,
                                                            netloom::Env& /*env*/) {
    netloom::sched::EpollOptions options;
    options.max_events = static_cast<int>(config.get_int("max_events", 64, 1, 65536));
    options.timer_slack = config.get_duration("timer_slack", options.timer_slack);
    if (options.timer_slack < netloom::Time::zero() ||
        options.timer_slack > std::chrono::seconds(1))
        config.fail("timer_slack", "a duration from 0 (the kernel's) to 1s",
                    config.get_string("timer_slack"));
    config.done();
    return std::make_unique<netloom::sched::EpollScheduler>(options);
}

}  // namespace

NETLOOM_PLUGIN(epoll_scheduler_plugin, scheduler, "epoll", "1.0.0",
               "event loop that blocks in epoll when idle and runs everything ready (lwt-like)",
               &make_epoll_scheduler, nullptr);
