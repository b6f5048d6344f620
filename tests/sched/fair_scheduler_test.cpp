// What only the fair scheduler promises: between two looks at the fds at most `quantum` posted
// callbacks and `quantum` timers run, however much work is runnable, and runnable work is served
// round-robin (every self-reposting task gets its turn once per round). Counted, never timed.
#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fair_scheduler.hpp"
#include "sched_test_util.hpp"

using namespace std::chrono_literals;
using netloom::sched::FairOptions;
using netloom::sched::FairScheduler;
using netloom::testing::EventFd;
using netloom::testing::HangGuard;

namespace {

std::map<std::string, std::uint64_t> counters_of(const FairScheduler& sched) {
    std::map<std::string, std::uint64_t> out;
    sched.visit_counters(
        [&](std::string_view name, std::uint64_t v) { out[std::string(name)] = v; });
    return out;
}

}  // namespace

TEST_CASE("fair: a ready fd is served after at most one quantum of posted work", "[sched][fair]") {
    constexpr std::size_t kQuantum = 8;
    FairScheduler sched(FairOptions{.quantum = kQuantum});
    HangGuard guard(sched);
    EventFd event;
    event.signal();
    std::size_t posted_ran = 0;
    std::size_t posted_ran_at_fd = 0, posted_ran_at_timer = 0;
    // The first callback adds a timer, already due: it must not wait for the 1000 others either.
    sched.post([&] {
        ++posted_ran;
        sched.add_timer(sched.now(), [&] { posted_ran_at_timer = posted_ran; });
    });
    for (int i = 0; i < 1000; ++i) sched.post([&] { ++posted_ran; });
    netloom::WatchId watch = 0;
    watch = sched.watch_readable(event.fd(), [&] {
        event.drain();
        posted_ran_at_fd = posted_ran;
        sched.unwatch(watch);
        sched.stop();
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(posted_ran_at_fd == kQuantum);  // the epoll scheduler would run all 1001 first
    guard.disarm();
    sched.run();  // the rest of the work, then idle: run() returns
    CHECK(posted_ran == 1001);
    CHECK(posted_ran_at_timer == kQuantum);  // the next turn, before the next slice
    CHECK(counters_of(sched).at("quantum_expired") > 0);
}

TEST_CASE("fair: self-reposting tasks get equal turns and do not starve fds or timers",
          "[sched][fair]") {
    FairScheduler sched(FairOptions{.quantum = 16});
    HangGuard guard(sched);
    EventFd event;
    constexpr int kTasks = 50;
    std::vector<long> turns(kTasks, 0);
    bool timer_ran = false, fd_ran = false;
    // Each task re-posts itself forever: runnable work never runs out.
    std::vector<std::function<void()>> tasks(kTasks);
    for (int i = 0; i < kTasks; ++i) {
        tasks[static_cast<std::size_t>(i)] = [&, i] {
            ++turns[static_cast<std::size_t>(i)];
            sched.post(tasks[static_cast<std::size_t>(i)]);
        };
        sched.post(tasks[static_cast<std::size_t>(i)]);
    }
    // The timer, not the test, makes the fd readable: both have to get through the busy loop.
    sched.add_timer(sched.now() + 2ms, [&] {
        timer_ran = true;
        event.signal();
    });
    sched.watch_readable(event.fd(), [&] {
        event.drain();
        fd_ran = true;
        sched.stop();
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(timer_ran);
    CHECK(fd_ran);
    const auto [least, most] = std::minmax_element(turns.begin(), turns.end());
    CHECK(*least >= 1);
    CHECK(*most - *least <= 1);  // round-robin: nobody is two rounds ahead of anyone
}

TEST_CASE("fair: a burst of due timers is spread over turns, in order", "[sched][fair]") {
    constexpr std::size_t kQuantum = 4;
    FairScheduler sched(FairOptions{.quantum = kQuantum});
    HangGuard guard(sched);
    EventFd event;
    event.signal();
    std::vector<int> ran;
    std::size_t timers_at_fd = 0;
    const auto deadline = sched.now();
    for (int i = 0; i < 40; ++i) sched.add_timer(deadline, [&, i] { ran.push_back(i); });
    netloom::WatchId watch = 0;
    watch = sched.watch_readable(event.fd(), [&] {
        event.drain();
        timers_at_fd = ran.size();
        sched.unwatch(watch);
    });
    guard.disarm();
    sched.run();  // returns once the timers are done and nothing is watched
    CHECK(timers_at_fd == kQuantum);
    std::vector<int> expected(40);
    for (int i = 0; i < 40; ++i) expected[static_cast<std::size_t>(i)] = i;
    CHECK(ran == expected);
}

TEST_CASE("fair: rounds and counters", "[sched][fair]") {
    FairScheduler sched(FairOptions{.quantum = 2});
    std::vector<int> ran;
    // Round 1 is {0, 1, 2}; 0 posts 3, which belongs to round 2 even though the quantum of 2
    // splits round 1 over two turns.
    sched.post([&] {
        ran.push_back(0);
        sched.post([&] { ran.push_back(3); });
    });
    sched.post([&] { ran.push_back(1); });
    sched.post([&] { ran.push_back(2); });
    sched.run();
    CHECK(ran == std::vector<int>{0, 1, 2, 3});
    const auto counters = counters_of(sched);
    CHECK(counters.at("rounds") == 2);
    CHECK(counters.at("posted_run") == 4);
    CHECK(counters.at("quantum_expired") == 1);
}

TEST_CASE("fair: a quantum of 0 is refused", "[sched][fair]") {
    CHECK_THROWS_AS(FairScheduler(FairOptions{.quantum = 0}), std::invalid_argument);
    CHECK_THROWS_AS(FairScheduler(FairOptions{.quantum = 1, .max_events = 0}),
                    std::invalid_argument);
}
