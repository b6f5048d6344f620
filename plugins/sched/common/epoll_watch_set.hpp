// epoll_watch_set.hpp — the fd-readiness half of a scheduler loop: an epoll instance, the table
// of watches (Scheduler::watch_readable) and one wait-then-dispatch step. Shared by the `epoll`,
// `fair` and `busypoll` schedulers, which differ in when and how long they wait, not in this.
//
// Contract: level-triggered EPOLLIN watches, one per fd (a second one throws
// std::invalid_argument). `remove` is safe from any callback, including the running one and ones
// whose events are already in the current batch (an event carries the watch id, not the fd).
// `wait(timeout)` takes at most `max_events` ready fds; nullopt waits without limit, zero polls.
// The timeout has nanosecond precision through epoll_pwait2 (Linux >= 5.11), else it is rounded
// up to whole milliseconds for epoll_wait so a timer never wakes the loop early. EINTR is an
// empty wait. `dispatch(ready, keep_going)` runs the callbacks of the last wait's events.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "netloom/scheduler.hpp"

namespace netloom::sched {

class EpollWatchSet {
public:
    EpollWatchSet(int max_events, bool use_epoll_pwait2);
    ~EpollWatchSet();
    EpollWatchSet(const EpollWatchSet&) = delete;
    EpollWatchSet& operator=(const EpollWatchSet&) = delete;

    /// Watches `fd` under the id the scheduler chose (unique among its watches).
    void add(WatchId id, int fd, Callback on_readable);
    void remove(WatchId id) noexcept;
    bool empty() const noexcept { return watches_.empty(); }

    /// One epoll wait; returns the number of ready events (0 on timeout or EINTR).
    int wait(std::optional<Time> timeout);

    /// Runs the callbacks of the first `ready` events of the last wait; `keep_going()` is asked
    /// after each one (the rest are reported again by the next wait: level-triggered).
    template <typename KeepGoing>
    void dispatch(int ready, KeepGoing&& keep_going) {
        for (int i = 0; i < ready; ++i) {
            // Looked up per event: an earlier callback of this batch may have removed this watch.
            // By value: struct epoll_event is packed on x86-64, so its u64 is misaligned and a
            // reference to it (find() takes one) is undefined behaviour (clang's UBSan says so).
            const std::uint64_t id = events_[static_cast<std::size_t>(i)].data.u64;
            auto it = watches_.find(id);
            if (it == watches_.end()) continue;
            // EPOLLHUP/EPOLLERR arrive without EPOLLIN too; the callback learns of them by
            // reading (EOF or an error), which is how it knows to unwatch.
            ++fd_callbacks_;
            it->second->on_readable();
            if (!keep_going()) break;
        }
        retired_.clear();
    }

    /// Whether waits use epoll_pwait2 (false after the kernel said ENOSYS).
    bool precise_sleep() const noexcept { return use_pwait2_; }
    std::uint64_t fd_callbacks() const noexcept { return fd_callbacks_; }
    std::uint64_t waits() const noexcept { return waits_; }
    std::uint64_t blocking_waits() const noexcept { return blocking_waits_; }

private:
    struct Watch {
        int fd;
        Callback on_readable;
    };

    int epoll_fd_ = -1;
    bool use_pwait2_;
    std::vector<epoll_event> events_;
    // Heap-allocated so that remove() from inside a callback can retire the object (keeping the
    // running std::function alive) instead of destroying it mid-call.
    std::unordered_map<WatchId, std::unique_ptr<Watch>> watches_;
    std::unordered_map<int, WatchId> watch_by_fd_;
    std::vector<std::unique_ptr<Watch>> retired_;
    std::uint64_t fd_callbacks_ = 0;
    std::uint64_t waits_ = 0;
    std::uint64_t blocking_waits_ = 0;
};

}  // namespace netloom::sched
