// sim_scheduler.hpp — the `sim` scheduler: a virtual clock for deterministic runs. now() starts
// at 0 and moves only when the loop is idle, straight to the next timer's deadline, so a
// simulated minute takes as long as the work done in it, and the same inputs give the same
// callbacks in the same order with the same now() (no wall clock, no fds, no threads).
//
// Contract (beyond scheduler.hpp): a loop turn runs the timers due at the start of the turn, the
// posted callbacks queued at its start, then every poller (the same order and snapshots as
// `epoll`). When the turn leaves no posted work and no poller reported work, the clock jumps to
// the earliest pending timer; with no timer either, run() returns. virtual_clock() is true.
// watch_readable throws std::logic_error: nothing outside the process may drive a simulation.
// A poller that reports work forever keeps the clock still (the loop spins at that instant).
#pragma once

#include <cstdint>

#include "loop_base.hpp"

namespace netloom::sched {

class SimScheduler final : public LoopBase {
public:
    SimScheduler() : LoopBase("sim scheduler") {}

    Time now() const noexcept override { return now_; }
    bool virtual_clock() const noexcept override { return true; }

    /// turns, timers_run, posted_run, poller_calls, clock_jumps, virtual_ms (now() in ms).
    void visit_counters(const CounterVisitor& visit) const override;

private:
    /// One loop turn; false when the loop is idle for good (no timer left to jump to).
    bool turn() override;

    Time now_{0};
    std::uint64_t clock_jumps_ = 0;
};

}  // namespace netloom::sched
