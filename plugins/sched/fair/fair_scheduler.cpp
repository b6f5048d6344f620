// The fair scheduler's loop: a quantum of timers, a quantum of the current round of posted
// callbacks, the pollers, then one epoll wait, every turn.
#include "fair_scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace netloom::sched {

FairScheduler::FairScheduler(FairOptions options)
    : FdLoopBase("fair scheduler", options.max_events, /*use_epoll_pwait2=*/true,
                 options.timer_slack),
      quantum_(options.quantum) {
    if (quantum_ < 1) throw std::invalid_argument("fair scheduler: quantum must be at least 1");
}

bool FairScheduler::turn() {
    // Timers count against their own quantum: a burst of due timers (a thousand connections'
    // retransmissions) is spread over turns instead of delaying the next look at the fds.
    run_due_timers(now(), quantum_);
    if (stopping()) return true;
    run_slice();
    if (stopping()) return true;
    const bool pollers_busy = run_pollers();
    if (stopping()) return true;
    return wait_and_dispatch(pollers_busy);
}

void FairScheduler::run_slice() {
    if (round_left_ == 0) {
        if (posted_.empty()) return;
        round_left_ = posted_.size();  // a new round: everything queued now, nothing later
        ++rounds_;
    }
    // round_left_ follows each callback taken (a stop() or an exception may cut the slice).
    run_posted(std::min(quantum_, round_left_), &round_left_);
    if (round_left_ > 0) ++quantum_expired_;
}

void FairScheduler::visit_counters(const CounterVisitor& visit) const {
    visit_fd_loop_counters(visit);
    visit("rounds", rounds_);
    visit("quantum_expired", quantum_expired_);
}

}  // namespace netloom::sched
