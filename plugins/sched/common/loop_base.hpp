// loop_base.hpp — LoopBase and FdLoopBase: what every scheduler plugin shares (the timer heap,
// the posted FIFO, the pollers, run/stop bookkeeping, fd watches on epoll), so that a plugin is
// only its policy: one loop turn, `turn()`.
//
// Contract (beyond scheduler.hpp): run() calls turn() until stop() or until turn() returns false
// (nothing could ever wake the loop). stop() is for the loop thread only: run() returns after the
// callback that called it, the rest stays queued for the next run(); a stop() outside run() makes
// the next run() return before running anything. A nested run() throws std::logic_error. An
// exception from a callback propagates out of run() and leaves the loop consistent (callbacks are
// popped before they run). Queued callbacks are destroyed unrun with the scheduler.
// LoopBase has no fds: watch_readable throws std::logic_error (the sim scheduler); FdLoopBase
// adds a steady-clock now() and fd watches through epoll (one watch per fd).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "epoll_watch_set.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "poller_list.hpp"
#include "timer_heap.hpp"

namespace netloom::sched {

class LoopBase : public Scheduler, public CounterSource {
public:
    LoopBase(const LoopBase&) = delete;
    LoopBase& operator=(const LoopBase&) = delete;

    TimerId add_timer(Time deadline, Callback cb) override;
    bool cancel_timer(TimerId id) noexcept override;
    WatchId watch_readable(int fd, Callback on_readable) override;
    void unwatch(WatchId id) noexcept override;
    WatchId add_poller(std::function<bool()> poll) override;
    void remove_poller(WatchId id) noexcept override;
    void post(Callback cb) override;
    void run() override;
    void stop() noexcept override;

protected:
    /// `name` prefixes error messages ("fair scheduler: ...").
    explicit LoopBase(const char* name) : name_(name) {}
    ~LoopBase() override = default;

    /// One loop turn; false when the loop is idle for good (nothing could wake it).
    virtual bool turn() = 0;

    bool stopping() const noexcept { return stop_requested_; }
    /// Runs the due timers (at most `budget`), counted; returns how many ran.
    std::size_t run_due_timers(Time now, std::size_t budget = SIZE_MAX);
    /// Runs up to `count` posted callbacks in FIFO order, counted; stops early on stop().
    /// `taken`, when given, is decremented as each callback is popped (before it runs, so it
    /// stays exact if one throws).
    void run_posted(std::size_t count, std::size_t* taken = nullptr);
    /// Runs every poller, counted; true when one of them found work.
    bool run_pollers();
    WatchId next_id() noexcept { return next_watch_id_++; }
    /// turns, timers_run, posted_run, poller_calls.
    void visit_loop_counters(const CounterVisitor& visit) const;

    const char* const name_;
    TimerHeap timers_;
    std::deque<Callback> posted_;
    PollerList pollers_;
    std::uint64_t turns_ = 0;

private:
    bool running_ = false;
    bool stop_requested_ = false;
    WatchId next_watch_id_ = 1;
    std::uint64_t timers_run_ = 0, posted_run_ = 0, poller_calls_ = 0;
};

class FdLoopBase : public LoopBase {
public:
    Time now() const noexcept override;
    WatchId watch_readable(int fd, Callback on_readable) override;
    void unwatch(WatchId id) noexcept override;

protected:
    /// `timer_slack` > 0 sets the thread's timer slack (prctl PR_SET_TIMERSLACK) for the
    /// scheduler's lifetime: Linux's default of 50 us would otherwise wake every short sleep
    /// (a 10 us link's delivery timer) up to 50 us late. 0 keeps the thread's current slack.
    FdLoopBase(const char* name, int max_events, bool use_epoll_pwait2, Time timer_slack = {});
    ~FdLoopBase() override;

    /// The end of an lwt-style turn: waits for fds until the next timer (not at all when
    /// `work_left`), runs their callbacks; false when nothing could ever wake the loop.
    bool wait_and_dispatch(bool work_left);
    /// turns, timers_run, posted_run, poller_calls, fd_callbacks, waits, blocking_waits.
    void visit_fd_loop_counters(const CounterVisitor& visit) const;

    EpollWatchSet watches_;

private:
    const std::chrono::steady_clock::time_point start_;
    long saved_timer_slack_ = -1;  ///< restored on destruction; -1: not changed
};

}  // namespace netloom::sched
