// TimerHeap (plugins/sched/common) on its own: order, lazy cancellation, the "added while running
// waits for the next call" rule, keep_going, exceptions. Times here are plain numbers, no clock.
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "timer_heap.hpp"

using netloom::Time;
using netloom::sched::TimerHeap;

namespace {
constexpr Time at(long ns) {
    return Time(ns);
}
constexpr auto always = [] { return true; };
}  // namespace

TEST_CASE("TimerHeap: next_deadline and run_due follow (deadline, order added)", "[sched][heap]") {
    TimerHeap heap;
    std::vector<int> ran;
    CHECK_FALSE(heap.next_deadline().has_value());
    heap.add(at(30), [&] { ran.push_back(3); });
    heap.add(at(10), [&] { ran.push_back(1); });
    heap.add(at(20), [&] { ran.push_back(2); });
    heap.add(at(10), [&] { ran.push_back(11); });
    CHECK(heap.size() == 4);
    CHECK(heap.next_deadline() == at(10));

    CHECK(heap.run_due(at(9), always) == 0);
    CHECK(heap.run_due(at(20), always) == 3);
    CHECK(ran == std::vector<int>{1, 11, 2});
    CHECK(heap.next_deadline() == at(30));
    CHECK(heap.run_due(at(1000), always) == 1);
    CHECK(heap.empty());
}

TEST_CASE("TimerHeap: a cancelled top is skipped by next_deadline", "[sched][heap]") {
    TimerHeap heap;
    const auto early = heap.add(at(5), [] {});
    heap.add(at(50), [] {});
    CHECK(heap.cancel(early));
    CHECK_FALSE(heap.cancel(early));
    CHECK(heap.size() == 1);
    CHECK(heap.next_deadline() == at(50));
}

TEST_CASE("TimerHeap: a due timer added during run_due waits for the next call", "[sched][heap]") {
    TimerHeap heap;
    std::vector<int> ran;
    heap.add(at(10), [&] {
        ran.push_back(1);
        heap.add(at(0), [&] { ran.push_back(3); });  // earlier than everything, already due
    });
    heap.add(at(10), [&] { ran.push_back(2); });
    CHECK(heap.run_due(at(10), always) == 2);
    CHECK(ran == std::vector<int>{1, 2});
    CHECK(heap.next_deadline() == at(0));
    CHECK(heap.run_due(at(10), always) == 1);
    CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("TimerHeap: a parked timer can be cancelled", "[sched][heap]") {
    TimerHeap heap;
    bool parked_ran = false;
    netloom::TimerId parked = 0;
    heap.add(at(1), [&] { parked = heap.add(at(1), [&] { parked_ran = true; }); });
    heap.run_due(at(1), always);
    CHECK(heap.cancel(parked));
    CHECK(heap.run_due(at(1), always) == 0);
    CHECK_FALSE(parked_ran);
    CHECK(heap.empty());
}

TEST_CASE("TimerHeap: keep_going and exceptions leave the rest queued", "[sched][heap]") {
    TimerHeap heap;
    std::vector<int> ran;
    heap.add(at(1), [&] { ran.push_back(1); });
    heap.add(at(1), [] { throw std::runtime_error("on purpose"); });
    heap.add(at(1), [&] { ran.push_back(2); });
    heap.add(at(1), [&] { ran.push_back(3); });
    CHECK(heap.run_due(at(1), [] { return false; }) == 1);  // stops after one callback
    CHECK(ran == std::vector<int>{1});
    CHECK_THROWS_AS(heap.run_due(at(1), always), std::runtime_error);
    CHECK(heap.size() == 2);
    CHECK(heap.run_due(at(1), always) == 2);
    CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("TimerHeap: run_due is not reentrant", "[sched][heap]") {
    TimerHeap heap;
    bool refused = false;
    heap.add(at(1), [&] {
        try {
            heap.run_due(at(1), always);
        } catch (const std::logic_error&) {
            refused = true;
        }
    });
    heap.run_due(at(1), always);
    CHECK(refused);
}

TEST_CASE("TimerHeap: a stale id never cancels the timer that reused its slot", "[sched][heap]") {
    TimerHeap heap;
    const auto cancelled = heap.add(at(1), [] {});
    REQUIRE(heap.cancel(cancelled));
    bool fresh_ran = false;
    const auto fresh = heap.add(at(1), [&] { fresh_ran = true; });  // takes the freed slot
    CHECK(fresh != cancelled);
    CHECK_FALSE(heap.cancel(cancelled));
    CHECK(heap.size() == 1);
    heap.run_due(at(1), always);
    CHECK(fresh_ran);

    bool newest_ran = false;
    heap.add(at(2), [&] { newest_ran = true; });  // reuses the slot again
    CHECK_FALSE(heap.cancel(fresh));              // fresh already ran
    heap.run_due(at(2), always);
    CHECK(newest_ran);
}

TEST_CASE("TimerHeap: cancel releases the callback's captures at once", "[sched][heap]") {
    TimerHeap heap;
    auto resource = std::make_shared<int>(0);
    const auto id = heap.add(at(100), [resource] { ++*resource; });
    heap.add(at(50), [] {});  // keeps the cancelled entry away from the top
    CHECK(resource.use_count() == 2);
    heap.cancel(id);
    CHECK(resource.use_count() == 1);
}

TEST_CASE("TimerHeap: a timer re-arming itself already due, many times over", "[sched][heap]") {
    // Each call parks the re-armed timer and the next one unparks it: memory must stay flat
    // (the unpark once reserved twice the capacity every time: bad_alloc after ~40 rounds).
    TimerHeap heap;
    int runs = 0;
    std::function<void()> rearm = [&] {
        if (++runs < 1000) heap.add(at(0), rearm);
    };
    heap.add(at(0), rearm);
    for (int i = 0; i < 1000 && !heap.empty(); ++i) CHECK(heap.run_due(at(0), always) == 1);
    CHECK(runs == 1000);
    CHECK(heap.empty());
}
