// fair_scheduler.hpp — the `fair` scheduler: miou-style round-robin over runnable work, with fd
// readiness, pollers and timers checked every `quantum` callbacks so that no amount of runnable
// work starves the network.
//
// Contract (beyond scheduler.hpp): posted callbacks (and so resumed coroutines) run in FIFO
// rounds: a round is what was queued when it began; work posted during a round joins the next
// one. A loop turn runs at most `quantum` due timers (in deadline order), then at most `quantum`
// callbacks of the current round, then every poller, then one epoll wait (zero timeout while
// work remains, else until the next timer, else without limit) and the ready fds' callbacks.
// So between two looks at the fds there are at most 2 * quantum timer and posted callbacks,
// however many are runnable. stop(), exceptions and watches behave as in `epoll`.
#pragma once

#include <cstddef>
#include <cstdint>

#include <chrono>

#include "loop_base.hpp"

namespace netloom::sched {

struct FairOptions {
    /// Most posted callbacks (and, separately, due timers) run between two I/O polls; >= 1.
    std::size_t quantum = 64;
    /// Ready fds taken from the kernel per wait; more stay ready for the next turn.
    int max_events = 64;
    /// Thread timer slack while the scheduler lives (see FdLoopBase); 0: the kernel's.
    Time timer_slack = std::chrono::microseconds(1);
};

class FairScheduler final : public FdLoopBase {
public:
    explicit FairScheduler(FairOptions options = {});

    /// turns, rounds, quantum_expired (turns cut short by the quantum), timers_run, posted_run,
    /// poller_calls, fd_callbacks, waits, blocking_waits.
    void visit_counters(const CounterVisitor& visit) const override;

private:
    bool turn() override;
    void run_slice();

    const std::size_t quantum_;
    /// Callbacks at the front of posted_ that belong to the current round.
    std::size_t round_left_ = 0;
    std::uint64_t rounds_ = 0, quantum_expired_ = 0;
};

}  // namespace netloom::sched
