// scheduler.hpp — the loop every stack runs on: timers, fd readiness, pollers, posted callbacks
// and coroutine tasks. Engines, drivers and apps talk only to this interface, so the loop policy
// (epoll, fair, busypoll, sim) is a YAML choice.
//
// Contract: single-threaded; every callback runs on the thread inside `run()`. `now()` is
// monotonic nanoseconds since the scheduler started (virtual under `sim`). Callbacks may add or
// cancel timers, watches and pollers, including their own. `run()` returns after `stop()`, or by
// itself when nothing could ever wake it (no timer, watch, posted work or busy poller). A `stop()`
// made outside `run()` makes the next `run()` return at once. Coroutines still suspended when
// the scheduler is destroyed are not resumed and their frames leak: finish them first.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>

#include "netloom/plugin.hpp"
#include "netloom/task.hpp"

namespace netloom {

using Time = std::chrono::nanoseconds;
using Callback = std::function<void()>;
using TimerId = std::uint64_t;  // 0 is never a valid id
using WatchId = std::uint64_t;

class Scheduler : public PluginObject {
public:
    virtual Time now() const noexcept = 0;

    /// Runs `cb` once at or after `deadline`. Timers with equal deadlines run in the order added.
    virtual TimerId add_timer(Time deadline, Callback cb) = 0;
    /// False when the timer already ran or was cancelled.
    virtual bool cancel_timer(TimerId id) noexcept = 0;

    /// Level-triggered: `on_readable` runs on every loop turn in which `fd` is readable.
    /// Schedulers without fds (sim) throw std::logic_error.
    virtual WatchId watch_readable(int fd, Callback on_readable) = 0;
    virtual void unwatch(WatchId id) noexcept = 0;

    /// `poll` runs on every loop turn and returns whether it found work. While any poller finds
    /// work the loop does not sleep. For busy-polled devices without a readiness fd.
    virtual WatchId add_poller(std::function<bool()> poll) = 0;
    virtual void remove_poller(WatchId id) noexcept = 0;

    /// Runs `cb` on a later loop turn, in FIFO order with other posted callbacks.
    virtual void post(Callback cb) = 0;

    virtual void run() = 0;
    virtual void stop() noexcept = 0;
    /// True when `now()` is virtual (the sim scheduler): nothing may measure wall time.
    virtual bool virtual_clock() const noexcept { return false; }

    /// Starts a coroutine on a later loop turn; it frees itself when it finishes.
    void spawn(Task<void> task) {
        auto handle = task.detach();
        post([handle] { handle.resume(); });
    }

    /// `co_await sched.sleep_until(t)` resumes the coroutine from a timer at `t`. Cancellation
    /// safe: destroying the suspended coroutine cancels the timer (the awaiter lives in its frame).
    auto sleep_until(Time deadline) {
        struct Awaiter {
            Scheduler& sched;
            Time deadline;
            TimerId timer = 0;
            Awaiter(Scheduler& s, Time d) : sched(s), deadline(d) {}
            Awaiter(const Awaiter&) = delete;
            Awaiter& operator=(const Awaiter&) = delete;
            ~Awaiter() {
                if (timer != 0) sched.cancel_timer(timer);
            }
            bool await_ready() const noexcept { return deadline <= sched.now(); }
            void await_suspend(std::coroutine_handle<> h) {
                timer = sched.add_timer(deadline, [this, h] {
                    timer = 0;
                    h.resume();
                });
            }
            void await_resume() const noexcept {}
        };
        return Awaiter{*this, deadline};
    }
    auto sleep_for(Time duration) { return sleep_until(now() + duration); }
};

}  // namespace netloom
