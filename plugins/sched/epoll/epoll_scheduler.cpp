// The epoll scheduler's loop: timers, posted callbacks, pollers, then one epoll wait per turn.
#include "epoll_scheduler.hpp"

namespace netloom::sched {

EpollScheduler::EpollScheduler(EpollOptions options)
    : FdLoopBase("epoll scheduler", options.max_events, options.use_epoll_pwait2,
                 options.timer_slack) {}

bool EpollScheduler::turn() {
    // Fixed before anything runs: callbacks posted during this turn wait for the next one.
    const std::size_t posted_at_start = posted_.size();
    run_due_timers(now());
    if (stopping()) return true;
    run_posted(posted_at_start);
    if (stopping()) return true;
    const bool pollers_busy = run_pollers();
    if (stopping()) return true;
    return wait_and_dispatch(pollers_busy);
}

void EpollScheduler::visit_counters(const CounterVisitor& visit) const {
    visit_fd_loop_counters(visit);
}

}  // namespace netloom::sched
