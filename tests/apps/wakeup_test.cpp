// Wakeup (notify/deadline awaitable) and RttStats, on the ManualScheduler.
#include <catch2/catch.hpp>

#include <memory>

#include "manual_scheduler.hpp"
#include "rtt_stats.hpp"
#include "wakeup.hpp"

using namespace std::chrono_literals;
using netloom::Task;
using netloom::Time;
using netloom::apps::RttStats;
using netloom::apps::Wakeup;
using netloom::testing::ManualScheduler;

namespace {

struct Trace {
    std::vector<bool> results;
    std::vector<Time> times;
    bool frame_destroyed = false;
    bool done = false;
};

struct DestroyFlag {
    bool* flag;
    ~DestroyFlag() { *flag = true; }
};

Task<void> waiter(ManualScheduler& sched, Wakeup& wakeup, Trace& trace, Time deadline, int waits) {
    DestroyFlag guard{&trace.frame_destroyed};
    for (int i = 0; i < waits; ++i) {
        const bool notified = co_await wakeup.wait_until(deadline);
        trace.results.push_back(notified);
        trace.times.push_back(sched.now());
    }
    trace.done = true;
}

Task<void> holder(std::shared_ptr<int> token, Wakeup& wakeup) {
    ++*token;
    co_await wakeup.wait();
}

}  // namespace

TEST_CASE("Wakeup: a deadline resumes the waiter with false at that time") {
    ManualScheduler sched;
    Wakeup wakeup(sched);
    Trace trace;
    sched.spawn(waiter(sched, wakeup, trace, Time{5ms}, 1));
    sched.run_until_idle();
    REQUIRE(wakeup.has_waiter());
    sched.advance(4ms);
    CHECK(trace.results.empty());
    sched.advance(1ms);
    REQUIRE(trace.results == std::vector<bool>{false});
    CHECK(trace.times[0] == Time{5ms});
    CHECK(trace.done);
    CHECK(sched.pending_timers() == 0);
}

TEST_CASE("Wakeup: notify resumes the waiter on a later loop turn, not inline") {
    ManualScheduler sched;
    Wakeup wakeup(sched);
    Trace trace;
    sched.spawn(waiter(sched, wakeup, trace, Wakeup::kNever, 1));
    sched.run_until_idle();
    wakeup.notify();
    wakeup.notify();  // a second notify before the resume adds nothing
    CHECK(trace.results.empty());
    CHECK(sched.pending_posted() == 1);
    sched.run_posted();
    CHECK(trace.results == std::vector<bool>{true});
    CHECK(trace.done);
}

TEST_CASE("Wakeup: a notify with nobody waiting makes the next wait return at once") {
    ManualScheduler sched;
    Wakeup wakeup(sched);
    Trace trace;
    wakeup.notify();
    sched.spawn(waiter(sched, wakeup, trace, Time{1s}, 2));
    sched.run_until_idle();
    // The first wait consumed the pending notify; the second waits for its deadline.
    REQUIRE(trace.results == std::vector<bool>{true});
    CHECK(trace.times[0] == Time{0});
    sched.advance(1s);
    CHECK(trace.results == std::vector<bool>{true, false});
}

TEST_CASE("Wakeup: a notify cancels the pending deadline timer") {
    ManualScheduler sched;
    Wakeup wakeup(sched);
    Trace trace;
    sched.spawn(waiter(sched, wakeup, trace, Time{10ms}, 1));
    sched.run_until_idle();
    CHECK(sched.pending_timers() == 1);
    wakeup.notify();
    CHECK(sched.pending_timers() == 0);
    sched.run_until_idle();
    CHECK(trace.results == std::vector<bool>{true});
}

TEST_CASE("Wakeup: destroying it frees the parked coroutine, its timer and posts do nothing") {
    ManualScheduler sched;
    Trace trace;
    {
        auto wakeup = std::make_unique<Wakeup>(sched);
        sched.spawn(waiter(sched, *wakeup, trace, Time{10ms}, 1));
        sched.run_until_idle();
        wakeup->notify();  // a resume is posted...
        wakeup.reset();    // ...but the Wakeup goes first
    }
    CHECK(trace.frame_destroyed);
    sched.advance(20ms);
    CHECK(trace.results.empty());
    CHECK_FALSE(trace.done);
}

TEST_CASE("Wakeup::spawn starts the coroutine on a later turn, or frees it if never run") {
    ManualScheduler sched;
    Trace trace;
    SECTION("started by the loop") {
        Wakeup wakeup(sched);
        wakeup.spawn(waiter(sched, wakeup, trace, Time{1ms}, 1));
        CHECK(wakeup.has_waiter());  // parked before its first turn
        CHECK(trace.results.empty());
        sched.run_posted();
        CHECK(wakeup.has_waiter());  // now waiting for its deadline
        sched.advance(1ms);
        CHECK(trace.results == std::vector<bool>{false});
        CHECK(trace.done);
    }
    SECTION("destroyed before the loop ran") {
        // The body never starts (so its locals never exist): watch a parameter of the frame.
        auto token = std::make_shared<int>(0);
        {
            Wakeup wakeup(sched);
            wakeup.spawn(holder(token, wakeup));
            CHECK(token.use_count() == 2);
        }
        CHECK(token.use_count() == 1);
        sched.advance(2ms);  // the posted start finds nothing
        CHECK(*token == 0);
    }
}

TEST_CASE("RttStats: min, max, mean, median and mdev") {
    RttStats stats;
    CHECK(stats.median() == Time{0});
    CHECK(stats.mdev() == Time{0});
    for (long us : {40, 10, 30, 20}) stats.add(std::chrono::microseconds(us));
    CHECK(stats.count() == 4);
    CHECK(stats.min() == Time{10us});
    CHECK(stats.max() == Time{40us});
    CHECK(stats.mean() == Time{25us});
    CHECK(stats.median() == Time{25us});
    stats.add(std::chrono::microseconds(1000));
    CHECK(stats.median() == Time{30us});
    RttStats two;
    two.add(Time{10us});
    two.add(Time{30us});
    CHECK(two.mdev() == Time{10us});  // population standard deviation, as iputils prints
}
