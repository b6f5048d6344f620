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

#include <chrono>
#include <cstdint>
#include <deque>

#include "epoll_watch_set.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "poller_list.hpp"
#include "timer_heap.hpp"

namespace netloom::sched {

struct BusyPollOptions {
    /// Ready fds taken from the kernel per poll; more stay ready for the next turn.
    int max_events = 64;
};

class BusyPollScheduler final : public Scheduler, public CounterSource {
public:
    explicit BusyPollScheduler(BusyPollOptions options = {});
    ~BusyPollScheduler() override;
    BusyPollScheduler(const BusyPollScheduler&) = delete;
    BusyPollScheduler& operator=(const BusyPollScheduler&) = delete;

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

    /// turns, idle_turns (turns that ran no callback and found no work), timers_run,
    /// posted_run, fd_callbacks, poller_calls, waits (all of them zero-timeout).
    void visit_counters(const CounterVisitor& visit) const override;

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
        std::uint64_t idle_turns = 0;
        std::uint64_t timers_run = 0;
        std::uint64_t posted_run = 0;
        std::uint64_t poller_calls = 0;
    } counters_;
};

}  // namespace netloom::sched
