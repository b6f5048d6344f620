// wakeup.hpp — Wakeup: what an app coroutine awaits: "something happened" (a socket became
// readable, an echo reply came) or a deadline, whichever comes first.
//
// Contract: single-threaded, on the scheduler's thread; at most one coroutine waits on a Wakeup
// at a time. `notify()` never resumes the waiter inline: it posts the resume to a later loop
// turn, so a callback made from inside the IP layer's receive path cannot re-enter the IP layer
// through the app. A notify while nobody waits is remembered (one flag) and makes the next wait
// return at once. A wait resumes with true when notified, false when its deadline came first.
// Destroying the Wakeup cancels its timer and destroys the frame of a coroutine still parked on
// it, or spawned through it and not started yet (a server waits forever, so that is how it
// ends); the coroutine must therefore be the outermost one (spawned, not awaited by another
// Task). Posted resumes and timers that outlive the Wakeup do nothing.
#pragma once

#include <coroutine>
#include <memory>

#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"

namespace netloom::apps {

class Wakeup {
    struct State {
        explicit State(Scheduler& s) : scheduler(s) {}
        Scheduler& scheduler;
        std::coroutine_handle<> parked;  ///< the waiting coroutine, until it is resumed
        TimerId timer = 0;
        bool pending = false;        ///< notified while nobody waited
        bool resume_posted = false;  ///< a resume is on its way; further notifies add nothing
        bool notified = false;       ///< what the last wait resumes with
    };

public:
    static constexpr Time kNever = Time::max();

    explicit Wakeup(Scheduler& scheduler) : state_(std::make_shared<State>(scheduler)) {}
    ~Wakeup();
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;

    void notify();

    /// Starts `task` on a later loop turn, as Scheduler::spawn does, but parked on this Wakeup
    /// until then: destroying the Wakeup before the loop ever runs (a run that fails at start)
    /// frees the frame instead of leaking it. Nothing may be waiting here yet.
    void spawn(Task<void> task);

    class Awaiter {
    public:
        Awaiter(std::shared_ptr<State> state, Time deadline)
            : state_(std::move(state)), deadline_(deadline) {}
        bool await_ready() noexcept;
        void await_suspend(std::coroutine_handle<> waiter);
        bool await_resume() const noexcept { return state_->notified; }

    private:
        std::shared_ptr<State> state_;
        Time deadline_;
    };

    /// `co_await wakeup.wait_until(t)`: true when notified, false when `t` came first.
    Awaiter wait_until(Time deadline) { return Awaiter(state_, deadline); }
    /// `co_await wakeup.wait()`: until notified.
    Awaiter wait() { return Awaiter(state_, kNever); }

    /// True while a coroutine is parked here (for tests).
    bool has_waiter() const noexcept { return static_cast<bool>(state_->parked); }

private:
    static void resume(const std::shared_ptr<State>& state, bool notified);

    std::shared_ptr<State> state_;
};

}  // namespace netloom::apps
