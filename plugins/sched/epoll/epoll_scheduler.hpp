// epoll_scheduler.hpp — the `epoll` scheduler: an lwt-style event loop that blocks in epoll_wait
// when idle and, when woken, runs everything that is ready.
//
// Contract (beyond scheduler.hpp): one loop turn runs, in this order, the timers due at the start
// of the turn, the posted callbacks that were queued at the start of the turn, every poller, then
// one epoll_wait and the callbacks of the fds it reports. Work created during a turn (a post, a
// timer already due) runs on the next turn, so nothing that re-arms itself starves I/O.
// - stop() is for the loop thread only (not async-signal-safe): run() returns after the callback
//   that called it; the rest of the turn stays queued for the next run(). A stop() outside run()
//   makes the next run() return before running anything.
// - run() also returns when nothing could ever wake it: no timer, no watch, no posted work.
// - An exception thrown by a callback propagates out of run() (the host reports it); the loop
//   stays consistent and run() may be called again.
// - One watch per fd (a second one throws std::invalid_argument); unwatch an fd before closing it.
#pragma once

#include <cstdint>

#include <chrono>

#include "loop_base.hpp"

namespace netloom::sched {

struct EpollOptions {
    /// Ready fds taken from the kernel per epoll_wait; more stay ready for the next turn.
    int max_events = 64;
    /// Sleep with epoll_pwait2 (ns timeout) when the kernel has it, else epoll_wait (ms, rounded
    /// up). Tests turn it off to cover the fallback.
    bool use_epoll_pwait2 = true;
    /// Thread timer slack while the scheduler lives (see FdLoopBase); 0: the kernel's.
    Time timer_slack = std::chrono::microseconds(1);
};

class EpollScheduler final : public FdLoopBase {
public:
    explicit EpollScheduler(EpollOptions options = {});

    /// turns, timers_run, posted_run, poller_calls, fd_callbacks, waits, blocking_waits.
    void visit_counters(const CounterVisitor& visit) const override;

    /// Whether sleeps use epoll_pwait2 (false after the kernel said ENOSYS).
    bool precise_sleep() const noexcept { return watches_.precise_sleep(); }

private:
    bool turn() override;
};

}  // namespace netloom::sched
