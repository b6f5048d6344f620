// What only the busypoll scheduler promises: it never sleeps. A pending timer, a watched fd with
// nothing to read, an idle poller: the loop keeps turning (every fd check is a zero-timeout
// poll) and still returns once nothing could wake it. Turns are counted, never timed.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "busypoll_scheduler.hpp"
#include "sched_test_util.hpp"

using namespace std::chrono_literals;
using netloom::sched::BusyPollScheduler;
using netloom::testing::EventFd;
using netloom::testing::HangGuard;

namespace {

std::map<std::string, std::uint64_t> counters_of(const BusyPollScheduler& sched) {
    std::map<std::string, std::uint64_t> out;
    sched.visit_counters(
        [&](std::string_view name, std::uint64_t v) { out[std::string(name)] = v; });
    return out;
}

}  // namespace

TEST_CASE("busypoll: an idle poller keeps running while a timer is pending", "[sched][busypoll]") {
    BusyPollScheduler sched;
    HangGuard guard(sched);
    long calls = 0;
    long calls_when_timer_ran = 0;
    sched.add_poller([&] {
        ++calls;
        return false;  // never any work: an event loop would sleep until the timer
    });
    sched.add_timer(sched.now() + 20ms, [&] {
        calls_when_timer_ran = calls;
        sched.stop();
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    // epoll would call it once or twice (one sleep of 20 ms); a spinning loop, thousands of times.
    CHECK(calls_when_timer_ran > 100);
    const auto counters = counters_of(sched);
    CHECK(counters.at("idle_turns") > 100);
    CHECK(counters.at("waits") == 0);  // no fd watched: not even a zero-timeout epoll call
}

TEST_CASE("busypoll: fds are polled with a zero timeout on every turn", "[sched][busypoll]") {
    BusyPollScheduler sched;
    HangGuard guard(sched);
    EventFd quiet, late;
    int late_calls = 0;
    sched.watch_readable(quiet.fd(), [] {});  // never readable
    sched.watch_readable(late.fd(), [&] {
        late.drain();
        ++late_calls;
        sched.stop();
    });
    sched.add_timer(sched.now() + 5ms, [&] { late.signal(); });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(late_calls == 1);
    const auto counters = counters_of(sched);
    CHECK(counters.at("waits") > 10);  // one per turn, each returning at once
    CHECK(counters.at("waits") == counters.at("turns"));
}

TEST_CASE("busypoll: run() returns once nothing can wake it", "[sched][busypoll]") {
    BusyPollScheduler sched;
    int ran = 0;
    netloom::WatchId poller = 0;
    poller = sched.add_poller([&] {
        if (++ran == 3) sched.remove_poller(poller);
        return true;  // busy until it removes itself
    });
    sched.post([&] { sched.add_timer(sched.now() + 1ms, [&] { ++ran; }); });
    sched.run();
    CHECK(ran == 4);
}
