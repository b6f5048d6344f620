// The epoll scheduler's loop: timers, posted callbacks, pollers, then one epoll wait per turn.
#include "epoll_scheduler.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>

namespace netloom::sched {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// epoll_wait takes milliseconds; round up so a timer is never woken for early, which would cost
// a spurious extra turn (correct, but wasted).
int to_timeout_ms(Time timeout) {
    using std::chrono::milliseconds;
    const auto ms = std::chrono::ceil<milliseconds>(timeout).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

EpollScheduler::EpollScheduler(EpollOptions options)
    : start_(std::chrono::steady_clock::now()), use_pwait2_(options.use_epoll_pwait2) {
    if (options.max_events < 1) {
        throw std::invalid_argument("epoll scheduler: max_events must be at least 1, got " +
                                    std::to_string(options.max_events));
    }
    events_.resize(static_cast<std::size_t>(options.max_events));  // before the fd: may throw
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw_errno("epoll scheduler: epoll_create1");
}

EpollScheduler::~EpollScheduler() {
    // Callbacks still queued are destroyed with their captures; a coroutine suspended on one of
    // them is not resumed (it can only be freed by whoever holds its frame).
    ::close(epoll_fd_);
}

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
    if (!on_readable) throw std::invalid_argument("watch_readable: empty callback");
    if (auto it = watch_by_fd_.find(fd); it != watch_by_fd_.end()) {
        throw std::invalid_argument("epoll scheduler: fd " + std::to_string(fd) +
                                    " is already watched (watch id " + std::to_string(it->second) +
                                    "); one watch per fd: unwatch the old one first");
    }
    const WatchId id = next_watch_id_++;
    // The event carries the watch id, not the fd: an event for a watch removed earlier in the
    // same batch then finds nothing, even if the fd number was watched again meanwhile.
    epoll_event event{};
    event.events = EPOLLIN;  // level-triggered: reported on every wait while data is unread
    event.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "epoll scheduler: cannot watch fd " + std::to_string(fd));
    }
    watches_.emplace(id, std::make_unique<Watch>(Watch{fd, std::move(on_readable)}));
    watch_by_fd_.emplace(fd, id);
    return id;
}

void EpollScheduler::unwatch(WatchId id) noexcept {
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    const int fd = it->second->fd;
    // Fails harmlessly (EBADF/ENOENT) when the fd was already closed, which removed it anyway.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watch_by_fd_.erase(fd);
    // The callback may be the one running right now: keep it alive until dispatch is over. If
    // even that push cannot allocate, leak the object rather than destroy a running callback.
    try {
        retired_watches_.push_back(std::move(it->second));
    } catch (...) {
        (void)it->second.release();
    }
    watches_.erase(it);
}

WatchId EpollScheduler::add_poller(std::function<bool()> poll) {
    if (!poll) throw std::invalid_argument("add_poller: empty callback");
    const WatchId id = next_watch_id_++;
    pollers_.push_back(std::make_unique<Poller>(Poller{id, std::move(poll)}));
    return id;
}

void EpollScheduler::remove_poller(WatchId id) noexcept {
    // Only marked here: the poller may be running. run_pollers() frees marked ones afterwards.
    for (auto& poller : pollers_) {
        if (poller->id == id && !poller->removed) {
            poller->removed = true;
            pollers_removed_ = true;
            return;
        }
    }
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
    // Fixed before anything runs: callbacks posted during this turn wait for the next one.
    const std::size_t posted_at_start = posted_.size();

    counters_.timers_run += timers_.run_due(now(), [this] { return !stop_requested_; });
    if (stop_requested_) return true;

    run_posted(posted_at_start);
    if (stop_requested_) return true;

    const bool pollers_busy = run_pollers();
    if (stop_requested_) return true;

    std::optional<Time> timeout;  // nullopt: sleep until an fd is ready
    if (!posted_.empty() || pollers_busy) {
        timeout = Time::zero();
    } else if (const auto next = timers_.next_deadline()) {
        timeout = std::max(Time::zero(), *next - now());
    } else if (watches_.empty()) {
        return false;  // nothing posted, no timer, no fd: no event can ever arrive
    }
    dispatch(wait(timeout));
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

bool EpollScheduler::run_pollers() {
    bool busy = false;
    // Pollers added during this loop start next turn; pollers_ may grow (and move its
    // unique_ptrs) while we iterate, but the Poller objects themselves stay put.
    const std::size_t count = pollers_.size();
    for (std::size_t i = 0; i < count; ++i) {
        Poller& poller = *pollers_[i];
        if (poller.removed) continue;
        ++counters_.poller_calls;
        if (poller.poll()) busy = true;
        if (stop_requested_) break;
    }
    if (pollers_removed_) {
        std::erase_if(pollers_, [](const std::unique_ptr<Poller>& p) { return p->removed; });
        pollers_removed_ = false;
    }
    return busy;
}

int EpollScheduler::wait(std::optional<Time> timeout) {
    ++counters_.waits;
    if (!timeout || *timeout > Time::zero()) ++counters_.blocking_waits;
    const int max_events = static_cast<int>(events_.size());
    if (use_pwait2_) {
        timespec ts{};
        if (timeout) {
            ts.tv_sec = static_cast<time_t>(timeout->count() / 1'000'000'000);
            ts.tv_nsec = static_cast<long>(timeout->count() % 1'000'000'000);
        }
        const int n =
            ::epoll_pwait2(epoll_fd_, events_.data(), max_events, timeout ? &ts : nullptr, nullptr);
        if (n >= 0) return n;
        if (errno == EINTR) return 0;
        // Kernels before 5.11 lack it (ENOSYS); some seccomp filters deny unknown calls (EPERM).
        if (errno != ENOSYS && errno != EPERM) throw_errno("epoll scheduler: epoll_pwait2");
        use_pwait2_ = false;
    }
    const int n =
        ::epoll_wait(epoll_fd_, events_.data(), max_events, timeout ? to_timeout_ms(*timeout) : -1);
    if (n >= 0) return n;
    if (errno == EINTR) return 0;
    throw_errno("epoll scheduler: epoll_wait");
}

void EpollScheduler::dispatch(int ready) {
    for (int i = 0; i < ready && !stop_requested_; ++i) {
        // Looked up per event: an earlier callback of this batch may have removed this watch.
        auto it = watches_.find(events_[static_cast<std::size_t>(i)].data.u64);
        if (it == watches_.end()) continue;
        // EPOLLHUP/EPOLLERR arrive without EPOLLIN too; the callback learns of them by reading
        // (EOF or an error), which is how it knows to unwatch.
        Watch& watch = *it->second;
        ++counters_.fd_callbacks;
        watch.on_readable();
    }
    retired_watches_.clear();
}

void EpollScheduler::visit_counters(const CounterVisitor& visit) const {
    visit("turns", counters_.turns);
    visit("timers_run", counters_.timers_run);
    visit("posted_run", counters_.posted_run);
    visit("fd_callbacks", counters_.fd_callbacks);
    visit("poller_calls", counters_.poller_calls);
    visit("waits", counters_.waits);
    visit("blocking_waits", counters_.blocking_waits);
}

}  // namespace netloom::sched
