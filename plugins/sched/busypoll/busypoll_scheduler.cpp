// The busypoll scheduler's loop: timers, posted callbacks, pollers, then a zero-timeout epoll
// poll, every turn, without ever sleeping.
#include "busypoll_scheduler.hpp"

namespace netloom::sched {

BusyPollScheduler::BusyPollScheduler(BusyPollOptions options)
    : FdLoopBase("busypoll scheduler", options.max_events,
                 /*use_epoll_pwait2=*/false) {}  // never sleeps: ms suffice

bool BusyPollScheduler::turn() {
    const std::size_t posted_at_start = posted_.size();
    const std::size_t timers_ran = run_due_timers(now());
    if (stopping()) return true;
    run_posted(posted_at_start);
    if (stopping()) return true;
    const bool pollers_busy = run_pollers();
    if (stopping()) return true;

    if (posted_.empty() && !pollers_busy && !timers_.next_deadline() && watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    const std::uint64_t fd_callbacks_before = watches_.fd_callbacks();
    if (!watches_.empty())
        watches_.dispatch(watches_.wait(Time::zero()), [this] { return !stopping(); });
    if (timers_ran == 0 && posted_at_start == 0 && !pollers_busy &&
        watches_.fd_callbacks() == fd_callbacks_before) {
        ++idle_turns_;
    }
    return true;
}

void BusyPollScheduler::visit_counters(const CounterVisitor& visit) const {
    visit_loop_counters(visit);
    visit("idle_turns", idle_turns_);
    visit("fd_callbacks", watches_.fd_callbacks());
    visit("waits", watches_.waits());
}

}  // namespace netloom::sched
