// wait_list.hpp — WaitList: coroutines waiting for "something changed" on one object (a
// stream, a listener, a UDP socket), each with an optional deadline. The building block of the
// app API (stream.hpp).
//
// Contract: single-threaded. `co_await list.wait(deadline)` resumes with true after a notify
// made while it waited, false when the deadline came first. `notify_now` resumes the waiters
// registered before the call, in order, from inside the call (use it from callbacks that the
// engine runs on a loop turn of their own); `notify_later` posts that to a later loop turn (use it
// from callbacks that may run inside the IP receive path). Waiters are cancellation safe: a frame
// destroyed while it waits unregisters itself and cancels its timer. Destroying the list while
// coroutines wait leaves them suspended (their TaskScope ends them).
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>

#include "netloom/scheduler.hpp"

namespace netloom::apps {

/// No deadline.
inline constexpr Time kNoDeadline = Time::max();

class WaitList {
    struct Core;

public:
    explicit WaitList(Scheduler& scheduler);
    ~WaitList();
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;

    class Awaiter {
    public:
        Awaiter(Core* core, Time deadline) : core_(core), deadline_(deadline) {}
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        ~Awaiter();
        bool await_ready() const noexcept;
        void await_suspend(std::coroutine_handle<> handle);
        bool await_resume() const noexcept { return notified_; }

    private:
        friend class WaitList;
        void unlink() noexcept;

        Core* core_;
        Time deadline_;
        std::coroutine_handle<> handle_;
        Awaiter* prev_ = nullptr;
        Awaiter* next_ = nullptr;
        std::uint64_t generation_ = 0;
        TimerId timer_ = 0;
        bool linked_ = false;
        bool notified_ = false;
    };

    Awaiter wait(Time deadline = kNoDeadline) { return Awaiter(core_.get(), deadline); }
    void notify_now();
    void notify_later();
    bool has_waiters() const noexcept;
    Scheduler& scheduler() const noexcept;

private:
    static void dispatch(std::shared_ptr<Core> core);  // by value: it keeps the core alive
    std::shared_ptr<Core> core_;
};

}  // namespace netloom::apps
