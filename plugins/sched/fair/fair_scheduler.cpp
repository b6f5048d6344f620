// The fair scheduler's loop: a quantum of timers, a quantum of the current round of posted
// callbacks, the pollers, then one epoll wait, every turn.
#include "fair_scheduler.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

namespace netloom::sched {

FairScheduler::FairScheduler(FairOptions options)
    : start_(std::chrono::steady_clock::now()),
      quantum_(options.quantum),
      watches_(options.max_events, /*use_epoll_pwait2=*/true) {
    if (quantum_ < 1) throw std::invalid_argument("fair scheduler: quantum must be at least 1");
}

// Queued callbacks are destroyed unrun, as in `epoll` (scheduler.hpp: finish coroutines first).
FairScheduler::~FairScheduler() = default;

Time FairScheduler::now() const noexcept {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - start_);
}

TimerId FairScheduler::add_timer(Time deadline, Callback cb) {
    return timers_.add(deadline, std::move(cb));
}

bool FairScheduler::cancel_timer(TimerId id) noexcept {
    return timers_.cancel(id);
}

WatchId FairScheduler::watch_readable(int fd, Callback on_readable) {
    const WatchId id = next_watch_id_++;
    watches_.add(id, fd, std::move(on_readable));
    return id;
}

void FairScheduler::unwatch(WatchId id) noexcept {
    watches_.remove(id);
}

WatchId FairScheduler::add_poller(std::function<bool()> poll) {
    const WatchId id = next_watch_id_++;
    pollers_.add(id, std::move(poll));
    return id;
}

void FairScheduler::remove_poller(WatchId id) noexcept {
    pollers_.remove(id);
}

void FairScheduler::post(Callback cb) {
    if (!cb) throw std::invalid_argument("post: empty callback");
    posted_.push_back(std::move(cb));
}

void FairScheduler::stop() noexcept {
    stop_requested_ = true;
}

void FairScheduler::run() {
    if (running_) throw std::logic_error("fair scheduler: run() called from inside run()");
    running_ = true;
    struct Reset {
        FairScheduler& self;
        ~Reset() {
            self.running_ = false;
            self.stop_requested_ = false;
        }
    } reset{*this};
    while (!stop_requested_ && turn()) {
    }
}

bool FairScheduler::turn() {
    ++counters_.turns;
    const auto keep_going = [this] { return !stop_requested_; };

    // Timers count against their own quantum: a burst of due timers (a thousand connections'
    // retransmissions) is spread over turns instead of delaying the next look at the fds.
    std::size_t timer_budget = quantum_;
    counters_.timers_run +=
        timers_.run_due(now(), [&] { return !stop_requested_ && --timer_budget > 0; });
    if (stop_requested_) return true;

    run_slice();
    if (stop_requested_) return true;

    const bool pollers_busy = pollers_.run_all(keep_going, counters_.poller_calls);
    if (stop_requested_) return true;

    std::optional<Time> timeout;  // nullopt: sleep until an fd is ready
    const auto next = timers_.next_deadline();
    if (!posted_.empty() || pollers_busy) {
        timeout = Time::zero();
    } else if (next) {
        // Zero when timers are already due (the quantum left some for the next turn).
        timeout = std::max(Time::zero(), *next - now());
    } else if (watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    watches_.dispatch(watches_.wait(timeout), keep_going);
    return true;
}

void FairScheduler::run_slice() {
    if (round_left_ == 0) {
        if (posted_.empty()) return;
        round_left_ = posted_.size();  // a new round: everything queued now, nothing later
        ++counters_.rounds;
    }
    const std::size_t slice = std::min(quantum_, round_left_);
    for (std::size_t i = 0; i < slice; ++i) {
        // Pop before running: if the callback throws, the ones behind it stay queued in order.
        Callback cb = std::move(posted_.front());
        posted_.pop_front();
        --round_left_;
        ++counters_.posted_run;
        cb();
        if (stop_requested_) return;
    }
    if (round_left_ > 0) ++counters_.quantum_expired;
}

void FairScheduler::visit_counters(const CounterVisitor& visit) const {
    visit("turns", counters_.turns);
    visit("rounds", counters_.rounds);
    visit("quantum_expired", counters_.quantum_expired);
    visit("timers_run", counters_.timers_run);
    visit("posted_run", counters_.posted_run);
    visit("fd_callbacks", watches_.fd_callbacks());
    visit("poller_calls", counters_.poller_calls);
    visit("waits", watches_.waits());
    visit("blocking_waits", watches_.blocking_waits());
}

}  // namespace netloom::sched
