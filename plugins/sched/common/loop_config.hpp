// loop_config.hpp — the config keys the fd-watching schedulers (epoll, fair, busypoll) share,
// read once here so their bounds and messages cannot drift apart.
//
// Contract: each reader marks its key as known and fails with ConfigError (file:line:column)
// on a value out of bounds; it never returns a bad value.
#pragma once

#include <chrono>

#include "netloom/config.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::sched {

/// `max_events`: ready fds taken per wait, 1..65536 (default 64).
inline int read_max_events(const Config& config) {
    return static_cast<int>(config.get_int("max_events", 64, 1, 65536));
}

/// `timer_slack`: 0 (keep the thread's) up to 1 s.
inline Time read_timer_slack(const Config& config, Time fallback) {
    return config.get_duration("timer_slack", fallback, Time::zero(), std::chrono::seconds(1));
}

}  // namespace netloom::sched
