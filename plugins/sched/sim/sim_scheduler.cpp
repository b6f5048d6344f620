// The sim scheduler's loop: timers, posted callbacks and pollers at one instant, then a jump of
// the virtual clock to the next timer once that instant has nothing left to do.
#include "sim_scheduler.hpp"

namespace netloom::sched {

bool SimScheduler::turn() {
    const std::size_t posted_at_start = posted_.size();
    run_due_timers(now_);
    if (stopping()) return true;
    run_posted(posted_at_start);
    if (stopping()) return true;
    const bool pollers_busy = run_pollers();
    if (stopping()) return true;

    if (!posted_.empty() || pollers_busy) return true;  // more to do at this instant
    const auto next = timers_.next_deadline();
    if (!next) return false;  // nothing posted, no timer: no event can ever arrive
    // A deadline in the past runs now: the clock never goes back.
    if (*next > now_) {
        now_ = *next;
        ++clock_jumps_;
    }
    return true;
}

void SimScheduler::visit_counters(const CounterVisitor& visit) const {
    visit_loop_counters(visit);
    visit("clock_jumps", clock_jumps_);
    visit("virtual_ms", static_cast<std::uint64_t>(now_.count() / 1'000'000));
}

}  // namespace netloom::sched
