// busypoll_scheduler.hpp — the `busypoll` scheduler: a loop that never sleeps. Every turn runs
// the due timers, the posted callbacks queued at its start, every poller, then polls the fds
// with a zero timeout and runs the ready ones' callbacks. It trades a core spinning at 100 % for
// the shortest reaction time to a device with no readiness fd (a ring in shared memory).
//
// Contract (beyond scheduler.hpp): the same turn order and per-turn snapshots as `epoll`, but the
// only epoll wait is a zero-timeout one, made only while fds are watched. run() still returns by
// itself when nothing could ever wake it (no timer, watch, posted work or busy poller), and
// otherwise spins, even when the only thing pending is a timer far in the future. stop(),
// exceptions and watches behave as in `epoll`.
#pragma once

#include <cstdint>

#include "loop_base.hpp"

namespace netloom::sched {

struct BusyPollOptions {
    /// Ready fds taken from the kernel per poll; more stay ready for the next turn.
    int max_events = 64;
};

class BusyPollScheduler final : public FdLoopBase {
public:
    explicit BusyPollScheduler(BusyPollOptions options = {});

    /// turns, idle_turns (turns that ran no callback and found no work), timers_run,
    /// posted_run, poller_calls, fd_callbacks, waits (all of them zero-timeout).
    void visit_counters(const CounterVisitor& visit) const override;

private:
    bool turn() override;
    std::uint64_t idle_turns_ = 0;
};

}  // namespace netloom::sched
