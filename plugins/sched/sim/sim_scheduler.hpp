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
#include <deque>

#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "poller_list.hpp"
#include "timer_heap.hpp"

namespace netloom::sched {

class SimScheduler final : public Scheduler, public CounterSource {
public:
    SimScheduler() = default;
    ~SimScheduler() override;
    SimScheduler(const SimScheduler&) = delete;
    SimScheduler& operator=(const SimScheduler&) = delete;

    Time now() const noexcept override { return now_; }
    bool virtual_clock() const noexcept override { return true; }

    TimerId add_timer(Time deadline, Callback cb) override;
    bool cancel_timer(TimerId id) noexcept override;

    /// Always throws std::logic_error (scheduler.hpp: schedulers without fds).
    WatchId watch_readable(int fd, Callback on_readable) override;
    void unwatch(WatchId id) noexcept override;

    WatchId add_poller(std::function<bool()> poll) override;
    void remove_poller(WatchId id) noexcept override;

    void post(Callback cb) override;

    void run() override;
    void stop() noexcept override;

    /// turns, clock_jumps, timers_run, posted_run, poller_calls, virtual_ms (now() in ms).
    void visit_counters(const CounterVisitor& visit) const override;

private:
    /// One loop turn; false when the loop is idle for good (no timer left to jump to).
    bool turn();
    void run_posted(std::size_t count);

    Time now_{0};
    bool running_ = false;
    bool stop_requested_ = false;

    TimerHeap timers_;
    std::deque<Callback> posted_;
    PollerList pollers_;
    WatchId next_poller_id_ = 1;

    struct Counters {
        std::uint64_t turns = 0;
        std::uint64_t clock_jumps = 0;
        std::uint64_t timers_run = 0;
        std::uint64_t posted_run = 0;
        std::uint64_t poller_calls = 0;
    } counters_;
};

}  // namespace netloom::sched
