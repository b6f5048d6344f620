// fair_scheduler.hpp — the `fair` scheduler: miou-style round-robin over runnable work, with fd
// readiness, pollers and timers checked every `quantum` callbacks so that no amount of runnable
// work starves the network.
//
// Contract (beyond scheduler.hpp): posted callbacks (and so resumed coroutines) run in FIFO
// rounds: a round is what was queued when it began; work posted during a round joins the next
// one. A loop turn runs at most `quantum` due timers (in deadline order), then at most `quantum`
// callbacks of the current round, then every poller, then one epoll wait (zero timeout while
// work remains, else until the next timer, else without limit) and the ready fds' callbacks.
// So between two looks at the fds there are at most 2 * quantum timer and posted callbacks,
// however many are runnable. stop(), exceptions and watches behave as in `epoll`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "epoll_watch_set.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"
#include "poller_list.hpp"
#include "timer_heap.hpp"

namespace netloom::sched {

struct FairOptions {
    /// Most posted callbacks (and, separately, due timers) run between two I/O polls; >= 1.
    std::size_t quantum = 64;
    /// Ready fds taken from the kernel per wait; more stay ready for the next turn.
    int max_events = 64;
};

class FairScheduler final : public Scheduler, public CounterSource {
public:
    explicit FairScheduler(FairOptions options = {});
    ~FairScheduler() override;
    FairScheduler(const FairScheduler&) = delete;
    FairScheduler& operator=(const FairScheduler&) = delete;

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

    /// turns, rounds, quantum_expired (turns cut short by the quantum), timers_run, posted_run,
    /// fd_callbacks, poller_calls, waits, blocking_waits.
    void visit_counters(const CounterVisitor& visit) const override;

private:
    /// One loop turn; false when the loop is idle for good (nothing could wake it).
    bool turn();
    void run_slice();

    const std::chrono::steady_clock::time_point start_;
    const std::size_t quantum_;
    bool running_ = false;
    bool stop_requested_ = false;

    TimerHeap timers_;
    std::deque<Callback> posted_;
    /// Callbacks at the front of posted_ that belong to the current round.
    std::size_t round_left_ = 0;
    EpollWatchSet watches_;
    PollerList pollers_;
    WatchId next_watch_id_ = 1;

    struct Counters {
        std::uint64_t turns = 0;
        std::uint64_t rounds = 0;
        std::uint64_t quantum_expired = 0;
        std::uint64_t timers_run = 0;
        std::uint64_t posted_run = 0;
        std::uint64_t poller_calls = 0;
    } counters_;
};

}  // namespace netloom::sched
