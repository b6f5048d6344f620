// LoopBase / FdLoopBase: the bookkeeping every scheduler plugin shares.
#include "loop_base.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace netloom::sched {

TimerId LoopBase::add_timer(Time deadline, Callback cb) {
    return timers_.add(deadline, std::move(cb));
}

bool LoopBase::cancel_timer(TimerId id) noexcept {
    return timers_.cancel(id);
}

WatchId LoopBase::watch_readable(int fd, Callback /*on_readable*/) {
    throw std::logic_error(std::string(name_) + ": cannot watch fd " + std::to_string(fd) +
                           ": this scheduler has no file descriptors (use a wire device, or "
                           "another scheduler for tap)");
}

void LoopBase::unwatch(WatchId /*id*/) noexcept {}

WatchId LoopBase::add_poller(std::function<bool()> poll) {
    const WatchId id = next_id();
    pollers_.add(id, std::move(poll));
    return id;
}

void LoopBase::remove_poller(WatchId id) noexcept {
    pollers_.remove(id);
}

void LoopBase::post(Callback cb) {
    if (!cb) throw std::invalid_argument("post: empty callback");
    posted_.push_back(std::move(cb));
}

void LoopBase::stop() noexcept {
    stop_requested_ = true;
}

void LoopBase::run() {
    if (running_) throw std::logic_error(std::string(name_) + ": run() called from inside run()");
    running_ = true;
    struct Reset {
        LoopBase& self;
        ~Reset() {
            self.running_ = false;
            self.stop_requested_ = false;
        }
    } reset{*this};
    while (!stop_requested_) {
        ++turns_;
        if (!turn()) break;
    }
}

std::size_t LoopBase::run_due_timers(Time now, std::size_t budget) {
    // keep_going is asked after each timer: the budget counts the ones that ran.
    const std::size_t ran = timers_.run_due(now, [&] { return !stop_requested_ && --budget > 0; });
    timers_run_ += ran;
    return ran;
}

void LoopBase::run_posted(std::size_t count, std::size_t* taken) {
    // Pop before running: if the callback throws, the ones behind it stay queued in order.
    for (std::size_t i = 0; i < count && !posted_.empty(); ++i) {
        Callback cb = std::move(posted_.front());
        posted_.pop_front();
        if (taken != nullptr) --*taken;
        ++posted_run_;
        cb();
        if (stop_requested_) return;
    }
}

bool LoopBase::run_pollers() {
    return pollers_.run_all([this] { return !stop_requested_; }, poller_calls_);
}

void LoopBase::visit_loop_counters(const CounterVisitor& visit) const {
    visit("turns", turns_);
    visit("timers_run", timers_run_);
    visit("posted_run", posted_run_);
    visit("poller_calls", poller_calls_);
}

FdLoopBase::FdLoopBase(const char* name, int max_events, bool use_epoll_pwait2, Time timer_slack)
    : LoopBase(name),
      watches_(max_events, use_epoll_pwait2),
      start_(std::chrono::steady_clock::now()) {
    if (timer_slack > Time::zero()) {
        const int previous = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
        if (previous >= 0 && prctl(PR_SET_TIMERSLACK,
                                   static_cast<unsigned long>(timer_slack.count()), 0, 0, 0) == 0) {
            saved_timer_slack_ = previous;
        }
    }
}

FdLoopBase::~FdLoopBase() {
    if (saved_timer_slack_ >= 0)
        prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(saved_timer_slack_), 0, 0, 0);
}

Time FdLoopBase::now() const noexcept {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - start_);
}

WatchId FdLoopBase::watch_readable(int fd, Callback on_readable) {
    const WatchId id = next_id();
    watches_.add(id, fd, std::move(on_readable));
    return id;
}

void FdLoopBase::unwatch(WatchId id) noexcept {
    watches_.remove(id);
}

bool FdLoopBase::wait_and_dispatch(bool work_left) {
    std::optional<Time> timeout;  // nullopt: sleep until an fd is ready
    if (work_left || !posted_.empty()) {
        timeout = Time::zero();
    } else if (const auto next = timers_.next_deadline()) {
        // Zero when timers are already due (a budget left some for the next turn).
        timeout = std::max(Time::zero(), *next - now());
    } else if (watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    watches_.dispatch(watches_.wait(timeout), [this] { return !stopping(); });
    return true;
}

void FdLoopBase::visit_fd_loop_counters(const CounterVisitor& visit) const {
    visit_loop_counters(visit);
    visit("fd_callbacks", watches_.fd_callbacks());
    visit("waits", watches_.waits());
    visit("blocking_waits", watches_.blocking_waits());
}

}  // namespace netloom::sched
