// The sim scheduler's loop: timers, posted callbacks and pollers at one instant, then a jump of
// the virtual clock to the next timer once that instant has nothing left to do.
#include "sim_scheduler.hpp"

#include <stdexcept>
#include <string>

namespace netloom::sched {

// Queued callbacks are destroyed unrun, as in `epoll` (scheduler.hpp: finish coroutines first).
SimScheduler::~SimScheduler() = default;

TimerId SimScheduler::add_timer(Time deadline, Callback cb) {
    return timers_.add(deadline, std::move(cb));
}

bool SimScheduler::cancel_timer(TimerId id) noexcept {
    return timers_.cancel(id);
}

WatchId SimScheduler::watch_readable(int fd, Callback /*on_readable*/) {
    throw std::logic_error("sim scheduler: cannot watch fd " + std::to_string(fd) +
                           ": a simulation has no file descriptors (use a wire device, or "
                           "another scheduler for tap)");
}

void SimScheduler::unwatch(WatchId /*id*/) noexcept {}

WatchId SimScheduler::add_poller(std::function<bool()> poll) {
    const WatchId id = next_poller_id_++;
    pollers_.add(id, std::move(poll));
    return id;
}

void SimScheduler::remove_poller(WatchId id) noexcept {
    pollers_.remove(id);
}

void SimScheduler::post(Callback cb) {
    if (!cb) throw std::invalid_argument("post: empty callback");
    posted_.push_back(std::move(cb));
}

void SimScheduler::stop() noexcept {
    stop_requested_ = true;
}

void SimScheduler::run() {
    if (running_) throw std::logic_error("sim scheduler: run() called from inside run()");
    running_ = true;
    struct Reset {
        SimScheduler& self;
        ~Reset() {
            self.running_ = false;
            self.stop_requested_ = false;
        }
    } reset{*this};
    while (!stop_requested_ && turn()) {
    }
}

bool SimScheduler::turn() {
    ++counters_.turns;
    const auto keep_going = [this] { return !stop_requested_; };
    const std::size_t posted_at_start = posted_.size();

    counters_.timers_run += timers_.run_due(now_, keep_going);
    if (stop_requested_) return true;

    run_posted(posted_at_start);
    if (stop_requested_) return true;

    const bool pollers_busy = pollers_.run_all(keep_going, counters_.poller_calls);
    if (stop_requested_) return true;

    if (!posted_.empty() || pollers_busy) return true;  // more to do at this instant
    const auto next = timers_.next_deadline();
    if (!next) return false;  // nothing posted, no timer: no event can ever arrive
    // A deadline in the past runs now: the clock never goes back.
    if (*next > now_) {
        now_ = *next;
        ++counters_.clock_jumps;
    }
    return true;
}

void SimScheduler::run_posted(std::size_t count) {
    // Pop before running: if the callback throws, the ones behind it stay queued in order.
    for (std::size_t i = 0; i < count && !posted_.empty(); ++i) {
        Callback cb = std::move(posted_.front());
        posted_.pop_front();
        ++counters_.posted_run;
        cb();
        if (stop_requested_) return;
    }
}

void SimScheduler::visit_counters(const CounterVisitor& visit) const {
    visit("turns", counters_.turns);
    visit("clock_jumps", counters_.clock_jumps);
    visit("timers_run", counters_.timers_run);
    visit("posted_run", counters_.posted_run);
    visit("poller_calls", counters_.poller_calls);
    visit("virtual_ms", static_cast<std::uint64_t>(now_.count() / 1'000'000));
}

}  // namespace netloom::sched
