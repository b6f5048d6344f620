// TaskScope: spawned coroutines wrapped in a guard frame the scope can destroy.
#include "task_scope.hpp"

#include <exception>
#include <utility>
#include <vector>

namespace netloom::apps {

TaskScope::TaskScope(Scheduler& scheduler) : state_(std::make_shared<State>(scheduler)) {}

TaskScope::~TaskScope() {
    // Take the table first: destroying a frame runs destructors of its locals, which must not
    // find a half-torn table (they never touch it, but a stream closing may post work).
    auto running = std::move(state_->running);
    state_->running.clear();
    for (auto& [id, handle] : running) handle.destroy();
}

void TaskScope::spawn(Task<void> task) {
    State& s = *state_;
    const std::uint64_t id = s.next_id++;
    // The guard is detached (frees itself at its end); the table remembers its handle so the
    // scope can destroy it while it is suspended.
    auto handle = guard(std::move(task), state_, id).detach();
    s.running.emplace(id, handle);
    std::weak_ptr<State> weak = state_;
    s.scheduler.post([weak, id] {
        auto state = weak.lock();
        if (!state) return;
        auto it = state->running.find(id);
        if (it != state->running.end()) it->second.resume();
    });
}

Task<void> TaskScope::guard(Task<void> inner, std::weak_ptr<State> state, std::uint64_t id) {
    std::exception_ptr error;
    try {
        co_await std::move(inner);
    } catch (...) {
        error = std::current_exception();
    }
    // Finished normally: leave the table before the frame frees itself at final suspend. (A frame
    // destroyed by ~TaskScope never gets here.)
    if (auto s = state.lock()) s->running.erase(id);
    if (error) report_detached_exception(error);
}

}  // namespace netloom::apps
