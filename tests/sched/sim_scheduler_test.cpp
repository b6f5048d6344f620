// What only the sim scheduler promises: a virtual clock that starts at 0, stands still while
// there is work and jumps to the next deadline when there is none (a 10-minute timer costs no
// wall time), equal deadlines in the order added, no fds, and the same callbacks in the same
// order with the same now() on every run of the same inputs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "sched_test_util.hpp"
#include "sim_scheduler.hpp"

using namespace std::chrono_literals;
using netloom::Time;
using netloom::sched::SimScheduler;

namespace {

std::map<std::string, std::uint64_t> counters_of(const SimScheduler& sched) {
    std::map<std::string, std::uint64_t> out;
    sched.visit_counters(
        [&](std::string_view name, std::uint64_t v) { out[std::string(name)] = v; });
    return out;
}

// A pseudo-random workload of timers, posts, cancels and a poller, driven by `seed`; returns the
// trace of (event, now) in the order the callbacks ran.
std::vector<std::pair<int, Time>> run_workload(std::uint64_t seed) {
    SimScheduler sched;
    std::mt19937_64 random(seed);
    std::vector<std::pair<int, Time>> trace;
    std::vector<netloom::TimerId> timers;
    int next_event = 0;
    std::function<void(int)> spawn = [&](int depth) {
        const int event = next_event++;
        const auto delay = std::chrono::microseconds(random() % 5000);
        timers.push_back(sched.add_timer(sched.now() + delay, [&, event, depth] {
            trace.emplace_back(event, sched.now());
            if (depth < 6) {
                spawn(depth + 1);
                spawn(depth + 1);
            }
            if (random() % 4 == 0 && !timers.empty())
                sched.cancel_timer(timers[random() % timers.size()]);
            sched.post([&, event] { trace.emplace_back(-event, sched.now()); });
        }));
    };
    int polls = 0;
    netloom::WatchId poller = 0;
    poller = sched.add_poller([&] {
        if (++polls == 300) sched.remove_poller(poller);
        return polls % 7 == 0;
    });
    spawn(0);
    spawn(0);
    sched.run();
    return trace;
}

}  // namespace

TEST_CASE("sim: the clock starts at 0 and a 10-minute timer costs no wall time", "[sched][sim]") {
    SimScheduler sched;
    CHECK(sched.virtual_clock());
    CHECK(sched.now() == Time::zero());
    Time fired_at{-1};
    sched.add_timer(10min, [&] { fired_at = sched.now(); });
    const auto wall_start = std::chrono::steady_clock::now();
    sched.run();
    const auto wall = std::chrono::steady_clock::now() - wall_start;
    CHECK(fired_at == 10min);  // exactly at its deadline, not after
    CHECK(sched.now() == 10min);
    CHECK(wall < 1s);  // a loose bound: a sleeping loop would take ten minutes
    CHECK(counters_of(sched).at("clock_jumps") == 1);
}

TEST_CASE("sim: the clock stands still while there is work", "[sched][sim]") {
    SimScheduler sched;
    sched.add_timer(1s, [] {});
    std::vector<Time> seen;
    std::function<void()> chain = [&] {
        seen.push_back(sched.now());
        if (seen.size() < 100) sched.post(chain);
    };
    sched.post(chain);
    int busy_polls = 0;
    Time last_busy_poll{-1};
    netloom::WatchId poller = 0;
    poller = sched.add_poller([&] {
        last_busy_poll = sched.now();
        if (++busy_polls == 500) sched.remove_poller(poller);
        return true;  // reports work: no jump while it does
    });
    sched.run();
    CHECK(seen.size() == 100);
    CHECK(std::all_of(seen.begin(), seen.end(), [](Time t) { return t == Time::zero(); }));
    CHECK(busy_polls == 500);
    CHECK(last_busy_poll == Time::zero());
    CHECK(sched.now() == 1s);
}

TEST_CASE("sim: equal deadlines run in the order added, also when added late", "[sched][sim]") {
    SimScheduler sched;
    std::vector<int> ran;
    for (int i = 0; i < 500; ++i) {
        sched.add_timer(3s, [&, i] {
            ran.push_back(i);
            // Added while the batch runs, at the same deadline: after every earlier one.
            if (i == 0) sched.add_timer(3s, [&] { ran.push_back(500); });
        });
    }
    sched.add_timer(1s, [&] { ran.push_back(-1); });
    sched.run();
    std::vector<int> expected{-1};
    for (int i = 0; i <= 500; ++i) expected.push_back(i);
    CHECK(ran == expected);
    CHECK(sched.now() == 3s);
}

TEST_CASE("sim: the same workload gives the same trace", "[sched][sim]") {
    const auto first = run_workload(7);
    const auto second = run_workload(7);
    const auto other = run_workload(8);
    REQUIRE(first.size() > 100);
    CHECK(first == second);
    CHECK(first != other);  // the seed matters: the comparison above is not vacuous
}

TEST_CASE("sim: no file descriptors", "[sched][sim]") {
    SimScheduler sched;
    netloom::testing::EventFd event;
    CHECK_THROWS_AS(sched.watch_readable(event.fd(), [] {}), std::logic_error);
    sched.unwatch(1);  // harmless
    sched.run();       // and nothing was registered: returns at once
    CHECK(sched.now() == Time::zero());
}
