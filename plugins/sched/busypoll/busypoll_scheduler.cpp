// The busypoll scheduler's loop: timers, posted callbacks, pollers, then a zero-timeout epoll
// poll, every turn, without ever sleeping.
#include "busypoll_scheduler.hpp"

#include <optional>
#include <stdexcept>

namespace netloom::sched {

BusyPollScheduler::BusyPollScheduler(BusyPollOptions options)
    : start_(std::chrono::steady_clock::now()),
      watches_(options.max_events, /*use_epoll_pwait2=*/false) {}  // never sleeps: ms suffice

// Queued callbacks are destroyed unrun, as in `epoll` (scheduler.hpp: finish coroutines first).
BusyPollScheduler::~BusyPollScheduler() = default;

Time BusyPollScheduler::now() const noexcept {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - start_);
}

TimerId BusyPollScheduler::add_timer(Time deadline, Callback cb) {
    return timers_.add(deadline, std::move(cb));
}

bool BusyPollScheduler::cancel_timer(TimerId id) noexcept {
    return timers_.cancel(id);
}

WatchId BusyPollScheduler::watch_readable(int fd, Callback on_readable) {
    const WatchId id = next_watch_id_++;
    watches_.add(id, fd, std::move(on_readable));
    return id;
}

void BusyPollScheduler::unwatch(WatchId id) noexcept {
    watches_.remove(id);
}

WatchId BusyPollScheduler::add_poller(std::function<bool()> poll) {
    const WatchId id = next_watch_id_++;
    pollers_.add(id, std::move(poll));
    return id;
}

void BusyPollScheduler::remove_poller(WatchId id) noexcept {
    pollers_.remove(id);
}

void BusyPollScheduler::post(Callback cb) {
    if (!cb) throw std::invalid_argument("post: empty callback");
    posted_.push_back(std::move(cb));
}

void BusyPollScheduler::stop() noexcept {
    stop_requested_ = true;
}

void BusyPollScheduler::run() {
    if (running_) throw std::logic_error("busypoll scheduler: run() called from inside run()");
    running_ = true;
    struct Reset {
        BusyPollScheduler& self;
        ~Reset() {
            self.running_ = false;
            self.stop_requested_ = false;
        }
    } reset{*this};
    while (!stop_requested_ && turn()) {
    }
}

bool BusyPollScheduler::turn() {
    ++counters_.turns;
    const auto keep_going = [this] { return !stop_requested_; };
    const std::size_t posted_at_start = posted_.size();

    const std::size_t timers_ran = timers_.run_due(now(), keep_going);
    counters_.timers_run += timers_ran;
    if (stop_requested_) return true;

    run_posted(posted_at_start);
    if (stop_requested_) return true;

    const bool pollers_busy = pollers_.run_all(keep_going, counters_.poller_calls);
    if (stop_requested_) return true;

    const bool no_timer = !timers_.next_deadline();
    if (posted_.empty() && !pollers_busy && no_timer && watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    const std::uint64_t fd_callbacks_before = watches_.fd_callbacks();
    if (!watches_.empty()) watches_.dispatch(watches_.wait(Time::zero()), keep_going);
    if (timers_ran == 0 && posted_at_start == 0 && !pollers_busy &&
        watches_.fd_callbacks() == fd_callbacks_before) {
        ++counters_.idle_turns;
    }
    return true;
}

void BusyPollScheduler::run_posted(std::size_t count) {
    // Pop before running: if the callback throws, the ones behind it stay queued in order.
    for (std::size_t i = 0; i < count && !posted_.empty(); ++i) {
        Callback cb = std::move(posted_.front());
        posted_.pop_front();
        ++counters_.posted_run;
        cb();
        if (stop_requested_) return;
    }
}

void BusyPollScheduler::visit_counters(const CounterVisitor& visit) const {
    visit("turns", counters_.turns);
    visit("idle_turns", counters_.idle_turns);
    visit("timers_run", counters_.timers_run);
    visit("posted_run", counters_.posted_run);
    visit("fd_callbacks", watches_.fd_callbacks());
    visit("poller_calls", counters_.poller_calls);
    visit("waits", watches_.waits());
}

}  // namespace netloom::sched
