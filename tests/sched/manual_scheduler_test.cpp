// ManualScheduler (tests/support) beyond the shared contract: the clock moves only when told,
// advance_to settles posted work between timers, runaway loops fail instead of hanging.
#include <chrono>
#include <functional>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "manual_scheduler.hpp"
#include "netloom/task.hpp"

using namespace std::chrono_literals;
using netloom::Task;
using netloom::Time;
using netloom::testing::ManualScheduler;

TEST_CASE("ManualScheduler: advance_to runs due timers at their own deadline", "[sched][manual]") {
    ManualScheduler sched;
    CHECK(sched.virtual_clock());
    CHECK(sched.now() == Time::zero());
    std::vector<Time> seen;
    for (const Time t : {30ms, 10ms, 20ms})
        sched.add_timer(t, [&] { seen.push_back(sched.now()); });

    sched.advance_to(20ms);
    CHECK(seen == std::vector<Time>{10ms, 20ms});
    CHECK(sched.now() == 20ms);
    CHECK(sched.pending_timers() == 1);

    sched.advance(5ms);  // to 25ms: the 30ms timer is not due
    CHECK(seen.size() == 2);
    CHECK(sched.now() == 25ms);
    sched.advance(5ms);
    CHECK(seen == std::vector<Time>{10ms, 20ms, 30ms});
    CHECK_THROWS_AS(sched.advance_to(1ms), std::invalid_argument);
}

TEST_CASE("ManualScheduler: work posted by a timer runs before the next timer", "[sched][manual]") {
    ManualScheduler sched;
    std::vector<Time> seen;
    sched.add_timer(10ms, [&] {
        // A real loop would run this post at ~10ms and so arm the 12ms timer in time.
        sched.post(
            [&] { sched.add_timer(sched.now() + 2ms, [&] { seen.push_back(sched.now()); }); });
    });
    sched.add_timer(15ms, [&] { seen.push_back(sched.now()); });
    sched.advance_to(20ms);
    CHECK(seen == std::vector<Time>{12ms, 15ms});
}

TEST_CASE("ManualScheduler: run_posted runs one turn, run_until_idle runs all", "[sched][manual]") {
    ManualScheduler sched;
    std::vector<int> ran;
    sched.post([&] {
        ran.push_back(1);
        sched.post([&] { ran.push_back(2); });
    });
    CHECK(sched.run_posted() == 1);
    CHECK(ran == std::vector<int>{1});
    CHECK(sched.pending_posted() == 1);
    CHECK(sched.run_until_idle() == 1);
    CHECK(ran == std::vector<int>{1, 2});
    CHECK(sched.run_until_idle() == 0);
}

TEST_CASE("ManualScheduler: nothing runs until the test says so", "[sched][manual]") {
    ManualScheduler sched;
    bool posted = false, timer = false;
    sched.post([&] { posted = true; });
    sched.add_timer(Time::zero(), [&] { timer = true; });
    CHECK_FALSE(posted);
    CHECK_FALSE(timer);
    sched.run_until_idle();  // the timer is due at now() == 0
    CHECK(posted);
    CHECK(timer);
}

TEST_CASE("ManualScheduler: pollers run in run_until_idle while they find work",
          "[sched][manual]") {
    ManualScheduler sched;
    int backlog = 5, calls = 0;
    sched.add_poller([&] {
        ++calls;
        if (backlog == 0) return false;
        --backlog;
        return true;
    });
    sched.run_until_idle();
    CHECK(backlog == 0);
    CHECK(calls == 6);  // five with work, one that found none
    CHECK(sched.poller_count() == 1);
}

TEST_CASE("ManualScheduler: a runaway callback fails instead of hanging", "[sched][manual]") {
    ManualScheduler sched;
    std::function<void()> spin = [&] { sched.post(spin); };
    sched.post(spin);
    CHECK_THROWS_AS(sched.run_until_idle(), std::runtime_error);
}

TEST_CASE("ManualScheduler: no file descriptors", "[sched][manual]") {
    ManualScheduler sched;
    CHECK_THROWS_AS(sched.watch_readable(0, [] {}), std::logic_error);
}

TEST_CASE("ManualScheduler: a coroutine driven by advance()", "[sched][manual][task]") {
    ManualScheduler sched;
    std::vector<Time> woke;
    auto sleeper = [&]() -> Task<void> {
        for (int i = 0; i < 3; ++i) {
            co_await sched.sleep_for(10ms);
            woke.push_back(sched.now());
        }
    };
    sched.spawn(sleeper());
    sched.run_until_idle();  // starts the task, which arms its first timer
    CHECK(woke.empty());
    sched.advance(15ms);
    CHECK(woke == std::vector<Time>{10ms});
    sched.advance(100ms);
    CHECK(woke == std::vector<Time>{10ms, 20ms, 30ms});
    CHECK(sched.pending_timers() == 0);
}

TEST_CASE("ManualScheduler: a timer re-armed at now() forever fails too", "[sched][manual]") {
    ManualScheduler sched;
    std::function<void()> rearm = [&] { sched.add_timer(sched.now(), rearm); };
    sched.add_timer(Time::zero(), rearm);
    CHECK_THROWS_AS(sched.run_until_idle(), std::runtime_error);
}

TEST_CASE("sleep_for: destroying the sleeping coroutine cancels its timer", "[sched][task]") {
    ManualScheduler sched;
    bool woke = false;
    auto sleeper = [&]() -> Task<void> {
        co_await sched.sleep_for(10ms);
        woke = true;
    };
    auto task = sleeper();
    auto handle = task.detach();
    handle.resume();  // runs to the sleep and arms the timer
    CHECK(sched.pending_timers() == 1);
    handle.destroy();  // e.g. its TaskScope died: the awaiter in the frame cancels the timer
    CHECK(sched.pending_timers() == 0);
    sched.advance(20ms);  // without the cancel, this would resume a freed frame
    CHECK_FALSE(woke);
}
