// The epoll scheduler's loop: timers, posted callbacks, pollers, then one epoll wait per turn.
#include "epoll_scheduler.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace netloom::sched {

EpollScheduler::EpollScheduler(EpollOptions options)
    : start_(std::chrono::steady_clock::now()),
      watches_(options.max_events, options.use_epoll_pwait2) {}

// Callbacks still queued are destroyed with their captures; a coroutine suspended on one of
// them is not resumed (it can only be freed by whoever holds its frame).
EpollScheduler::~EpollScheduler() = default;

Time EpollScheduler::now() const noexcept {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - start_);
}

TimerId EpollScheduler::add_timer(Time deadline, Callback cb) {
    return timers_.add(deadline, std::move(cb));
}

bool EpollScheduler::cancel_timer(TimerId id) noexcept {
    return timers_.cancel(id);
}

WatchId EpollScheduler::watch_readable(int fd, Callback on_readable) {
    const WatchId id = next_watch_id_++;
    watches_.add(id, fd, std::move(on_readable));
    return id;
}

void EpollScheduler::unwatch(WatchId id) noexcept {
    watches_.remove(id);
}

WatchId EpollScheduler::add_poller(std::function<bool()> poll) {
    const WatchId id = next_watch_id_++;
    pollers_.add(id, std::move(poll));
    return id;
}

void EpollScheduler::remove_poller(WatchId id) noexcept {
    pollers_.remove(id);
}

void EpollScheduler::post(Callback cb) {
    if (!cb) throw std::invalid_argument("post: empty callback");
    posted_.push_back(std::move(cb));
}

void EpollScheduler::stop() noexcept {
    stop_requested_ = true;
}

void EpollScheduler::run() {
    if (running_) throw std::logic_error("epoll scheduler: run() called from inside run()");
    running_ = true;
    struct Reset {
        EpollScheduler& self;
        ~Reset() {
            self.running_ = false;
            self.stop_requested_ = false;
        }
    } reset{*this};
    while (!stop_requested_ && turn()) {
    }
}

bool EpollScheduler::turn() {
    ++counters_.turns;
    const auto keep_going = [this] { return !stop_requested_; };
    // Fixed before anything runs: callbacks posted during this turn wait for the next one.
    const std::size_t posted_at_start = posted_.size();

    counters_.timers_run += timers_.run_due(now(), keep_going);
    if (stop_requested_) return true;

    run_posted(posted_at_start);
    if (stop_requested_) return true;

    const bool pollers_busy = pollers_.run_all(keep_going, counters_.poller_calls);
    if (stop_requested_) return true;

    std::optional<Time> timeout;  // nullopt: sleep until an fd is ready
    if (!posted_.empty() || pollers_busy) {
        timeout = Time::zero();
    } else if (const auto next = timers_.next_deadline()) {
        timeout = std::max(Time::zero(), *next - now());
    } else if (watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    watches_.dispatch(watches_.wait(timeout), keep_going);
    return true;
}

void EpollScheduler::run_posted(std::size_t count) {
    // Pop before running: if the callback throws, the ones behind it stay queued in order.
    for (std::size_t i = 0; i < count && !posted_.empty(); ++i) {
        Callback cb = std::move(posted_.front());
        posted_.pop_front();
        ++counters_.posted_run;
        cb();
        if (stop_requested_) return;
    }
}

void EpollScheduler::visit_counters(const CounterVisitor& visit) const {
    visit("turns", counters_.turns);
    visit("timers_run", counters_.timers_run);
    visit("posted_run", counters_.posted_run);
    visit("fd_callbacks", watches_.fd_callbacks());
    visit("poller_calls", counters_.poller_calls);
    visit("waits", watches_.waits());
    visit("blocking_waits", watches_.blocking_waits());
}

}  // namespace netloom::sched
