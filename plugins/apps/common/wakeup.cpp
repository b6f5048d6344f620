// Wakeup: parks one coroutine until a notify (resumed on a later loop turn) or a timer.
#include "wakeup.hpp"

#include <stdexcept>
#include <utility>

namespace netloom::apps {

Wakeup::~Wakeup() {
    State& s = *state_;
    if (s.timer != 0) s.scheduler.cancel_timer(std::exchange(s.timer, 0));
    // A coroutine still parked here will never be resumed (its resume sources die with us):
    // free its frame now rather than leak it. Its locals are destroyed, nothing else runs.
    if (auto waiter = std::exchange(s.parked, {})) waiter.destroy();
}

void Wakeup::notify() {
    State& s = *state_;
    if (!s.parked) {
        s.pending = true;
        return;
    }
    if (s.resume_posted) return;
    if (s.timer != 0) s.scheduler.cancel_timer(std::exchange(s.timer, 0));
    s.resume_posted = true;
    std::weak_ptr<State> weak = state_;
    s.scheduler.post([weak] {
        if (auto state = weak.lock()) {
            state->resume_posted = false;
            resume(state, true);
        }
    });
}

void Wakeup::spawn(Task<void> task) {
    State& s = *state_;
    if (s.parked) throw std::logic_error("Wakeup::spawn: a coroutine is already parked here");
    s.parked = task.detach();
    s.resume_posted = true;
    std::weak_ptr<State> weak = state_;
    s.scheduler.post([weak] {
        if (auto state = weak.lock()) {
            state->resume_posted = false;
            resume(state, true);
        }
    });
}

void Wakeup::resume(const std::shared_ptr<State>& state, bool notified) {
    auto waiter = std::exchange(state->parked, {});
    if (!waiter) return;
    state->notified = notified;
    waiter.resume();  // may destroy the Wakeup: `state` keeps the block alive until we return
}

bool Wakeup::Awaiter::await_ready() noexcept {
    State& s = *state_;
    if (s.pending) {
        s.pending = false;
        s.notified = true;
        return true;
    }
    if (deadline_ != kNever && deadline_ <= s.scheduler.now()) {
        s.notified = false;
        return true;
    }
    return false;
}

void Wakeup::Awaiter::await_suspend(std::coroutine_handle<> waiter) {
    State& s = *state_;
    s.parked = waiter;
    if (deadline_ == kNever) return;
    std::weak_ptr<State> weak = state_;
    s.timer = s.scheduler.add_timer(deadline_, [weak] {
        if (auto state = weak.lock()) {
            state->timer = 0;
            if (!state->resume_posted) resume(state, false);
        }
    });
}

}  // namespace netloom::apps
