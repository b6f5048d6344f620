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

#include <chrono>
#include <cstdint>
#include <deque>

#include "epoll_watch_set.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "poller_list.hpp"
#include "timer_heap.hpp"

namespace netloom::sched {

struct EpollOptions {
    /// Ready fds taken from the kernel per epoll_wait; more stay ready for the next turn.
    int max_events = 64;
    /// Sleep with epoll_pwait2 (ns timeout) when the kernel has it, else epoll_wait (ms, rounded
    /// up). Tests turn it off to cover the fallback.
    bool use_epoll_pwait2 = true;
};

class EpollScheduler final : public Scheduler, public CounterSource {
public:
    explicit EpollScheduler(EpollOptions options = {});
    ~EpollScheduler() override;
    EpollScheduler(const EpollScheduler&) = delete;
    EpollScheduler& operator=(const EpollScheduler&) = delete;

    Time now() const noexcept override;

    TimerId add_timer(Time deadline, Callback cb) override;
    bool cancel_timer(TimerId id) noexcept override;

    WatchId watch_readable(int fd, Callback on_readable) override;
    void unwatch(WatchId id) noexcept override;

    WatchId add_poller(std::function<bool()> poll) override;
    void remove_poller(WatchId id) noexcept override;

    void post(Callback cb) override;

    void run() override;
    void stop() noexcept override;

    /// turns, timers_run, posted_run, fd_callbacks, poller_calls, waits, blocking_waits.
    void visit_counters(const CounterVisitor& visit) const override;

    /// Whether sleeps use epoll_pwait2 (false after the kernel said ENOSYS).
    bool precise_sleep() const noexcept { return watches_.precise_sleep(); }

private:
    /// One loop turn; false when the loop is idle for good (nothing could wake it).
    bool turn();
    void run_posted(std::size_t count);

    const std::chrono::steady_clock::time_point start_;
    bool running_ = false;
    bool stop_requested_ = false;

    TimerHeap timers_;
    std::deque<Callback> posted_;
    EpollWatchSet watches_;
    PollerList pollers_;
    WatchId next_watch_id_ = 1;

    struct Counters {
        std::uint64_t turns = 0;
        std::uint64_t timers_run = 0;
        std::uint64_t posted_run = 0;
        std::uint64_t poller_calls = 0;
    } counters_;
};

}  // namespace netloom::sched
