// What the epoll scheduler does beyond the shared contract: fd readiness (level-triggered,
// unwatch from callbacks, one watch per fd; also checked against `fair` and `busypoll`, which
// share the watch set), fairness between posted work, timers and I/O, the epoll_wait fallback,
// counters.
// Loop turns are counted with a poller (it runs once per turn), never with a clock.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "busypoll_scheduler.hpp"
#include "epoll_scheduler.hpp"
#include "fair_scheduler.hpp"
#include "sched_test_util.hpp"

using namespace std::chrono_literals;
using netloom::Time;
using netloom::WatchId;
using netloom::sched::BusyPollScheduler;
using netloom::sched::EpollOptions;
using netloom::sched::EpollScheduler;
using netloom::sched::FairScheduler;
using netloom::testing::EventFd;
using netloom::testing::HangGuard;

namespace {

// Runs `then` after `turns` further loop turns (each turn includes one epoll_wait), by reposting.
void after_turns(netloom::Scheduler& sched, int turns, std::function<void()> then) {
    if (turns == 0) {
        then();
        return;
    }
    sched.post([&sched, turns, then = std::move(then)]() mutable {
        after_turns(sched, turns - 1, std::move(then));
    });
}

std::map<std::string, std::uint64_t> counters_of(const EpollScheduler& sched) {
    std::map<std::string, std::uint64_t> out;
    sched.visit_counters(
        [&](std::string_view name, std::uint64_t v) { out[std::string(name)] = v; });
    return out;
}

}  // namespace

// The schedulers that watch fds (through the shared EpollWatchSet).
#define FD_SCHEDULERS EpollScheduler, FairScheduler, BusyPollScheduler

TEST_CASE("epoll: timers keep their order with the epoll_wait (ms) fallback", "[sched][epoll]") {
    EpollScheduler sched(EpollOptions{.max_events = 64, .use_epoll_pwait2 = false});
    CHECK_FALSE(sched.precise_sleep());
    HangGuard guard(sched);
    const Time base = sched.now();
    std::vector<int> ran;
    sched.add_timer(base + 2ms, [&] { ran.push_back(2); });
    sched.add_timer(base + 500us, [&] { ran.push_back(0); });
    sched.add_timer(base + 1ms, [&] { ran.push_back(1); });
    sched.add_timer(base + 2500us, [&] { sched.stop(); });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(ran == std::vector<int>{0, 1, 2});
}

TEMPLATE_TEST_CASE("fd watches: readiness is level-triggered until the fd is read", "[sched][fd]",
                   FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    EventFd event;
    event.signal();
    int calls = 0;
    int calls_after_drain = -1;
    sched.watch_readable(event.fd(), [&] {
        // Not reading: the same readiness must be reported again on the following turns.
        if (++calls < 3) return;
        REQUIRE(event.drain() == 1);
        // Several more turns, each with an epoll_wait: no more calls once drained.
        after_turns(sched, 5, [&] {
            calls_after_drain = calls;
            sched.stop();
        });
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(calls == 3);
    CHECK(calls_after_drain == 3);
}

TEMPLATE_TEST_CASE("fd watches: unwatch from inside callbacks of the same ready batch",
                   "[sched][fd]", FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    EventFd first, second;
    first.signal();
    second.signal();  // both ready before the loop starts: one epoll_wait reports both
    int calls = 0;
    WatchId a = 0, b = 0;
    auto unwatch_both = [&] {
        ++calls;
        sched.unwatch(a);  // itself or the other one: the other's event is already in the batch
        sched.unwatch(b);
    };
    a = sched.watch_readable(first.fd(), unwatch_both);
    b = sched.watch_readable(second.fd(), unwatch_both);
    after_turns(sched, 5, [&] { sched.stop(); });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(calls == 1);
    CHECK(first.drain() == 1);  // never read: the watch, not the data, went away
    CHECK(second.drain() == 1);
}

TEMPLATE_TEST_CASE("fd watches: a callback unwatches itself and watches the same fd again",
                   "[sched][fd]", FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    EventFd event;
    event.signal(7);
    int old_calls = 0;
    std::uint64_t read_by_new = 0;
    WatchId old_watch = 0, new_watch = 0;
    old_watch = sched.watch_readable(event.fd(), [&] {
        ++old_calls;
        sched.unwatch(old_watch);
        new_watch = sched.watch_readable(event.fd(), [&] {
            read_by_new = event.drain();
            sched.unwatch(new_watch);
            sched.stop();
        });
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(old_calls == 1);
    CHECK(new_watch != old_watch);
    CHECK(read_by_new == 7);
}

TEMPLATE_TEST_CASE("fd watches: one watch per fd", "[sched][fd]", FD_SCHEDULERS) {
    TestType sched;
    EventFd event;
    const WatchId id = sched.watch_readable(event.fd(), [] {});
    CHECK_THROWS_AS(sched.watch_readable(event.fd(), [] {}), std::invalid_argument);
    CHECK_THROWS_WITH(
        sched.watch_readable(event.fd(), [] {}),
        Catch::Contains("fd " + std::to_string(event.fd())) && Catch::Contains("already watched"));
    sched.unwatch(id);
    sched.unwatch(id);  // twice is harmless
    const WatchId again = sched.watch_readable(event.fd(), [] {});
    CHECK(again != id);
    sched.unwatch(again);
}

TEST_CASE("epoll: watching what epoll cannot watch throws", "[sched][epoll]") {
    EpollScheduler sched;
    CHECK_THROWS_AS(sched.watch_readable(-1, [] {}), std::system_error);
    CHECK_THROWS_AS(sched.watch_readable(0, netloom::Callback{}), std::invalid_argument);
    CHECK_THROWS_AS(sched.add_timer(sched.now(), netloom::Callback{}), std::invalid_argument);
    CHECK_THROWS_AS(sched.post(netloom::Callback{}), std::invalid_argument);
    CHECK_THROWS_AS(sched.add_poller(std::function<bool()>{}), std::invalid_argument);
    CHECK_THROWS_AS(EpollScheduler(EpollOptions{.max_events = 0}), std::invalid_argument);
}

TEMPLATE_TEST_CASE("fd watches: a pipe whose writer closed reports hang-up to the callback",
                   "[sched][fd]", FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    const char payload[] = "bye";
    REQUIRE(::write(fds[1], payload, sizeof payload) == static_cast<ssize_t>(sizeof payload));
    ::close(fds[1]);
    std::string received;
    bool saw_eof = false;
    WatchId watch = 0;
    watch = sched.watch_readable(fds[0], [&] {
        char buf[16];
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            received.append(buf, static_cast<std::size_t>(n));
            return;
        }
        saw_eof = (n == 0);
        sched.unwatch(watch);
        sched.stop();
    });
    sched.run();
    ::close(fds[0]);
    CHECK_FALSE(guard.fired());
    CHECK(received == std::string(payload, sizeof payload));
    CHECK(saw_eof);
}

TEST_CASE("epoll: max_events smaller than the ready set still serves every fd", "[sched][epoll]") {
    EpollScheduler sched(EpollOptions{.max_events = 1});
    HangGuard guard(sched);
    EventFd events[3];
    std::vector<int> served;
    for (int i = 0; i < 3; ++i) {
        events[i].signal();
        sched.watch_readable(events[i].fd(), [&, i] {
            if (events[i].drain() != 0) served.push_back(i);
            if (served.size() == 3) sched.stop();
        });
    }
    sched.run();
    CHECK_FALSE(guard.fired());
    std::sort(served.begin(), served.end());
    CHECK(served == std::vector<int>{0, 1, 2});
}

TEMPLATE_TEST_CASE("fd watches: a self-reposting callback starves neither timers nor fds",
                   "[sched][fd]", FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    EventFd event;
    bool timer_ran = false, fd_ran = false;
    long reposts = 0;
    std::function<void()> spin = [&] {
        ++reposts;
        if (timer_ran && fd_ran) {
            sched.stop();
            return;
        }
        sched.post(spin);
    };
    sched.post(spin);
    sched.add_timer(sched.now() + 1ms, [&] { timer_ran = true; });
    sched.watch_readable(event.fd(), [&] {
        fd_ran = true;
        event.drain();
    });
    event.signal();
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(timer_ran);
    CHECK(fd_ran);
    CHECK(reposts > 1);
}

TEMPLATE_TEST_CASE("fd watches: a timer re-armed at now() does not starve an fd", "[sched][fd]",
                   FD_SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    EventFd event;
    event.signal();
    bool fd_ran = false;
    long rearms = 0;
    std::function<void()> rearm = [&] {
        ++rearms;
        if (!fd_ran) sched.add_timer(sched.now(), rearm);  // already due when added
    };
    sched.add_timer(sched.now(), rearm);
    sched.watch_readable(event.fd(), [&] {
        fd_ran = true;
        event.drain();
        sched.stop();
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(fd_ran);
    CHECK(rearms >= 1);
}

TEST_CASE("epoll: work posted during a turn runs on the next turn", "[sched][epoll]") {
    EpollScheduler sched;
    int turn = 0;
    sched.add_poller([&] {
        ++turn;  // pollers run once per turn, after the posted callbacks
        return false;
    });
    int first_turn = -1, reposted_turn = -1, timer_posted_turn = -1, timer_turn = -1;
    sched.post([&] {
        first_turn = turn;
        sched.post([&] { reposted_turn = turn; });
    });
    sched.add_timer(sched.now(), [&] {
        timer_turn = turn;
        // Timers run before posted work in the same turn; this post still waits a turn.
        sched.post([&] { timer_posted_turn = turn; });
    });
    sched.run();
    CHECK(first_turn == 0);
    CHECK(reposted_turn == first_turn + 1);
    CHECK(timer_turn == 0);
    CHECK(timer_posted_turn == timer_turn + 1);
}

TEST_CASE("epoll: run() is not reentrant", "[sched][epoll]") {
    EpollScheduler sched;
    bool threw_logic_error = false;
    sched.post([&] {
        try {
            sched.run();
        } catch (const std::logic_error&) {
            threw_logic_error = true;
        }
    });
    sched.run();
    CHECK(threw_logic_error);
}

TEST_CASE("epoll: counters count what ran", "[sched][epoll]") {
    EpollScheduler sched;
    EventFd event;
    event.signal();
    const int timers = 3, posts = 4;
    for (int i = 0; i < timers; ++i) sched.add_timer(sched.now(), [] {});
    for (int i = 0; i < posts; ++i) sched.post([] {});
    WatchId watch = 0, poller = 0;
    watch = sched.watch_readable(event.fd(), [&] {
        event.drain();
        sched.unwatch(watch);
    });
    poller = sched.add_poller([&] {
        sched.remove_poller(poller);
        return false;
    });
    const auto before = counters_of(sched);
    // Turn 1 runs the timers, the posts and the poller, then blocks until the fd is reported;
    // turn 2 finds nothing left at all and run() returns.
    sched.run();
    const auto after = counters_of(sched);
    CHECK(before.at("turns") == 0);
    CHECK(after.at("turns") == 2);
    CHECK(after.at("timers_run") == timers);
    CHECK(after.at("posted_run") == posts);
    CHECK(after.at("poller_calls") == 1);
    CHECK(after.at("fd_callbacks") == 1);
    CHECK(after.at("waits") == 1);
    CHECK(after.at("blocking_waits") == 1);
}

TEST_CASE("epoll: timer_slack holds while the scheduler lives, then the old slack returns",
          "[sched][epoll]") {
    const int before = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    REQUIRE(before > 0);
    {
        EpollOptions options;
        options.timer_slack = 2us;
        EpollScheduler sched(options);
        CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 2000);
    }
    CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == before);
    {
        EpollOptions options;
        options.timer_slack = 0us;  // keep the thread's
        EpollScheduler sched(options);
        CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == before);
    }
}
