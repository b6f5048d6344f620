// task_scope.hpp — TaskScope: owns the coroutines an app spawns (a server's per-connection
// handlers, a client's streams), so that destroying the app ends them cleanly.
//
// Contract: single-threaded, on the scheduler's thread. `spawn` starts the task on a later loop
// turn. A task that finishes frees itself; an exception escaping it goes to
// `report_detached_exception` (the host logs it). Destroying the scope destroys every task still
// suspended, outermost frame first, which destroys the frames it awaits and their locals (streams
// close, timers are cancelled by their awaiters): nothing it owned is resumed afterwards. A task
// must not destroy its own scope.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "netloom/scheduler.hpp"
#include "netloom/task.hpp"

namespace netloom::apps {

class TaskScope {
public:
    explicit TaskScope(Scheduler& scheduler);
    ~TaskScope();
    TaskScope(const TaskScope&) = delete;
    TaskScope& operator=(const TaskScope&) = delete;

    void spawn(Task<void> task);
    /// Tasks spawned and not finished yet (started or not).
    std::size_t active() const noexcept { return state_->running.size(); }

private:
    struct State {
        explicit State(Scheduler& s) : scheduler(s) {}
        Scheduler& scheduler;
        std::uint64_t next_id = 1;
        std::unordered_map<std::uint64_t, std::coroutine_handle<>> running;
    };
    static Task<void> guard(Task<void> inner, std::weak_ptr<State> state, std::uint64_t id);

    std::shared_ptr<State> state_;
};

}  // namespace netloom::apps
