// The epoll instance and watch table shared by the fd-watching schedulers.
#include "epoll_watch_set.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
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

EpollWatchSet::EpollWatchSet(int max_events, bool use_epoll_pwait2)
    : use_pwait2_(use_epoll_pwait2) {
    if (max_events < 1) {
        throw std::invalid_argument("scheduler: max_events must be at least 1, got " +
                                    std::to_string(max_events));
    }
    events_.resize(static_cast<std::size_t>(max_events));  // before the fd: may throw
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw_errno("scheduler: epoll_create1");
}

EpollWatchSet::~EpollWatchSet() {
    ::close(epoll_fd_);
}

void EpollWatchSet::add(WatchId id, int fd, Callback on_readable) {
    if (!on_readable) throw std::invalid_argument("watch_readable: empty callback");
    if (auto it = watch_by_fd_.find(fd); it != watch_by_fd_.end()) {
        throw std::invalid_argument("scheduler: fd " + std::to_string(fd) +
                                    " is already watched (watch id " + std::to_string(it->second) +
                                    "); one watch per fd: unwatch the old one first");
    }
    // The event carries the watch id, not the fd: an event for a watch removed earlier in the
    // same batch then finds nothing, even if the fd number was watched again meanwhile.
    epoll_event event{};
    event.events = EPOLLIN;  // level-triggered: reported on every wait while data is unread
    event.data.u64 = id;
    auto watch = std::make_unique<Watch>(Watch{fd, std::move(on_readable)});
    watches_.reserve(watches_.size() + 1);  // everything that may throw before epoll knows
    watch_by_fd_.reserve(watch_by_fd_.size() + 1);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "scheduler: cannot watch fd " + std::to_string(fd));
    }
    watches_.emplace(id, std::move(watch));
    watch_by_fd_.emplace(fd, id);
}

void EpollWatchSet::remove(WatchId id) noexcept {
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    const int fd = it->second->fd;
    // Fails harmlessly (EBADF/ENOENT) when the fd was already closed, which removed it anyway.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watch_by_fd_.erase(fd);
    // The callback may be the one running right now: keep it alive until dispatch is over. If
    // even that push cannot allocate, leak the object rather than destroy a running callback.
    try {
        retired_.push_back(std::move(it->second));
    } catch (...) {
        (void)it->second.release();
    }
    watches_.erase(it);
}

int EpollWatchSet::wait(std::optional<Time> timeout) {
    ++waits_;
    if (!timeout || *timeout > Time::zero()) ++blocking_waits_;
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
        if (errno != ENOSYS && errno != EPERM) throw_errno("scheduler: epoll_pwait2");
        use_pwait2_ = false;
    }
    const int n =
        ::epoll_wait(epoll_fd_, events_.data(), max_events, timeout ? to_timeout_ms(*timeout) : -1);
    if (n >= 0) return n;
    if (errno == EINTR) return 0;
    throw_errno("scheduler: epoll_wait");
}

}  // namespace netloom::sched
