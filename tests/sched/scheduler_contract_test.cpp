// The Scheduler contract (scheduler.hpp) checked against every implementation: the classes of the
// epoll, fair, busypoll and sim plugins and the ManualScheduler test double. Orderings and events
// are asserted, never durations; the HangGuard only stops a loop that would otherwise hang.
#include <algorithm>
#include <chrono>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "busypoll_scheduler.hpp"
#include "epoll_scheduler.hpp"
#include "fair_scheduler.hpp"
#include "manual_scheduler.hpp"
#include "netloom/task.hpp"
#include "sched_test_util.hpp"
#include "sim_scheduler.hpp"

using namespace std::chrono_literals;
using netloom::Scheduler;
using netloom::Task;
using netloom::Time;
using netloom::sched::BusyPollScheduler;
using netloom::sched::EpollScheduler;
using netloom::sched::FairScheduler;
using netloom::sched::SimScheduler;
using netloom::testing::HangGuard;
using netloom::testing::ManualScheduler;

namespace {

// Restores the process-wide handler when a test ends, whatever happens.
class ScopedDetachedHandler {
public:
    explicit ScopedDetachedHandler(netloom::DetachedExceptionHandler handler)
        : previous_(netloom::set_detached_exception_handler(std::move(handler))) {}
    ~ScopedDetachedHandler() { netloom::set_detached_exception_handler(std::move(previous_)); }

private:
    netloom::DetachedExceptionHandler previous_;
};

Task<int> doubled_later(Scheduler& sched, int value) {
    co_await sched.sleep_for(1ms);
    co_return value * 2;
}

Task<void> sleep_then_log(Scheduler& sched, Time delay, std::string name,
                          std::vector<std::string>& log) {
    co_await sched.sleep_for(delay);
    log.push_back(std::move(name));
}

Task<void> failing_task(Scheduler& sched, std::string message) {
    co_await sched.sleep_for(1ms);
    throw std::runtime_error(message);
}

}  // namespace

#define SCHEDULERS EpollScheduler, FairScheduler, BusyPollScheduler, SimScheduler, ManualScheduler

TEMPLATE_TEST_CASE("timers run in deadline order, ties in the order added", "[sched]", SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    const Time base = sched.now();
    const std::vector<int> offsets_ms = {3, 1, 2, 2, 1, 3, 2, 0};
    std::vector<std::size_t> ran;
    std::vector<bool> on_time;
    for (std::size_t i = 0; i < offsets_ms.size(); ++i) {
        const Time deadline = base + std::chrono::milliseconds(offsets_ms[i]);
        sched.add_timer(deadline, [&, i, deadline] {
            ran.push_back(i);
            on_time.push_back(sched.now() >= deadline);  // "at or after", never before
        });
    }
    sched.add_timer(base + 10ms, [&] { sched.stop(); });

    std::vector<std::size_t> expected(offsets_ms.size());
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(),
                     [&](std::size_t a, std::size_t b) { return offsets_ms[a] < offsets_ms[b]; });

    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(ran == expected);
    CHECK(std::count(on_time.begin(), on_time.end(), true) == static_cast<long>(ran.size()));
}

TEMPLATE_TEST_CASE("cancel_timer before the loop runs", "[sched]", SCHEDULERS) {
    TestType sched;
    std::vector<char> ran;
    const auto a = sched.add_timer(sched.now() + 1ms, [&] { ran.push_back('a'); });
    const auto b = sched.add_timer(sched.now() + 1ms, [&] { ran.push_back('b'); });
    CHECK(a != 0);
    CHECK(b != a);
    CHECK(sched.cancel_timer(b));
    CHECK_FALSE(sched.cancel_timer(b));  // already cancelled
    CHECK_FALSE(sched.cancel_timer(0));  // never valid
    CHECK_FALSE(sched.cancel_timer(b + 1000));
    sched.run();  // returns once idle: only `a` is left to run
    CHECK(ran == std::vector<char>{'a'});
    CHECK_FALSE(sched.cancel_timer(a));  // already ran
}

TEMPLATE_TEST_CASE("a timer cancels others from inside its callback", "[sched]", SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    const Time base = sched.now();
    std::vector<char> ran;
    bool cancelled_same_batch = false, cancelled_later = false, cancelled_self = true;
    netloom::TimerId a = 0, b = 0, c = 0;
    a = sched.add_timer(base + 1ms, [&] {
        ran.push_back('a');
        cancelled_same_batch = sched.cancel_timer(b);  // equal deadline: due in this very turn
        cancelled_later = sched.cancel_timer(c);
        cancelled_self = sched.cancel_timer(a);  // it is running: no longer pending
    });
    b = sched.add_timer(base + 1ms, [&] { ran.push_back('b'); });
    c = sched.add_timer(base + 2ms, [&] { ran.push_back('c'); });
    sched.add_timer(base + 3ms, [&] {
        ran.push_back('d');
        sched.stop();
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(ran == std::vector<char>{'a', 'd'});
    CHECK(cancelled_same_batch);
    CHECK(cancelled_later);
    CHECK_FALSE(cancelled_self);
}

TEMPLATE_TEST_CASE("many cancelled timers leave the survivors in order", "[sched]", SCHEDULERS) {
    TestType sched;
    const Time base = sched.now();
    constexpr int kTimers = 1000;
    std::vector<netloom::TimerId> ids;
    std::vector<int> ran;
    for (int i = 0; i < kTimers; ++i) {
        // Deadlines in reverse of insertion order, so the heap has to reorder them.
        ids.push_back(sched.add_timer(base + std::chrono::microseconds(kTimers - i),
                                      [&ran, i] { ran.push_back(i); }));
    }
    std::vector<int> expected;
    for (int i = 0; i < kTimers; ++i) {
        if (i % 7 == 0) {
            expected.push_back(i);
        } else {
            REQUIRE(sched.cancel_timer(ids[static_cast<std::size_t>(i)]));
        }
    }
    std::reverse(expected.begin(), expected.end());  // latest added has the earliest deadline
    sched.run();
    CHECK(ran == expected);
}

TEMPLATE_TEST_CASE("posted callbacks run in FIFO order, reposts on a later turn", "[sched]",
                   SCHEDULERS) {
    TestType sched;
    std::vector<int> ran;
    for (int i = 0; i < 5; ++i) {
        sched.post([&, i] {
            ran.push_back(i);
            if (i == 1) sched.post([&] { ran.push_back(5); });  // behind the ones already queued
        });
    }
    sched.run();
    CHECK(ran == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEMPLATE_TEST_CASE("stop() from a timer returns after that callback, the rest waits", "[sched]",
                   SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    const Time deadline = sched.now() + 1ms;
    std::vector<char> ran;
    sched.add_timer(deadline, [&] {
        ran.push_back('a');
        sched.stop();
    });
    sched.add_timer(deadline, [&] {
        ran.push_back('b');
        sched.stop();
    });
    sched.run();
    CHECK(ran == std::vector<char>{'a'});
    sched.run();  // the equal-deadline timer was kept for the next run
    CHECK(ran == std::vector<char>{'a', 'b'});
    CHECK_FALSE(guard.fired());
}

TEMPLATE_TEST_CASE("stop() from a posted callback keeps the queue for the next run", "[sched]",
                   SCHEDULERS) {
    TestType sched;
    std::vector<int> ran;
    sched.post([&] {
        ran.push_back(1);
        sched.stop();
    });
    sched.post([&] { ran.push_back(2); });
    sched.run();
    CHECK(ran == std::vector<int>{1});
    sched.run();
    CHECK(ran == std::vector<int>{1, 2});
}

TEMPLATE_TEST_CASE("stop() before run() makes that run return at once", "[sched]", SCHEDULERS) {
    TestType sched;
    int ran = 0;
    sched.post([&] { ++ran; });
    sched.stop();
    sched.run();
    CHECK(ran == 0);
    sched.run();  // the request was consumed
    CHECK(ran == 1);
}

TEMPLATE_TEST_CASE("an exception from a callback leaves run() and the loop usable", "[sched]",
                   SCHEDULERS) {
    TestType sched;
    std::vector<int> ran;
    sched.post([] { throw std::invalid_argument("post failed on purpose"); });
    sched.post([&] { ran.push_back(0); });
    CHECK_THROWS_AS(sched.run(), std::invalid_argument);
    CHECK(ran.empty());
    sched.run();  // the callback queued behind the failing one was kept
    CHECK(ran == std::vector<int>{0});

    const Time deadline = sched.now() + 1ms;
    sched.add_timer(deadline, [] { throw std::runtime_error("timer failed on purpose"); });
    sched.add_timer(deadline, [&] { ran.push_back(1); });
    CHECK_THROWS_WITH(sched.run(), "timer failed on purpose");
    sched.run();  // so was the timer due with it
    CHECK(ran == std::vector<int>{0, 1});
}

TEMPLATE_TEST_CASE("a poller runs every turn while it reports work", "[sched]", SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    int calls = 0, self_removing_calls = 0;
    netloom::WatchId self = 0;
    self = sched.add_poller([&] {
        ++self_removing_calls;
        sched.remove_poller(self);
        return true;
    });
    // Nothing else wakes the loop: if it slept while this poller is busy, the guard would fire.
    sched.add_poller([&] {
        if (++calls == 50) sched.stop();
        return true;
    });
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(calls == 50);
    CHECK(self_removing_calls == 1);
}

TEMPLATE_TEST_CASE("coroutines: sleep_for and an awaited Task<int>", "[sched][task]", SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    std::vector<std::string> log;
    int result = 0;
    Time slept_from{}, woke_at{};
    const int input = 21;
    auto main_task = [&]() -> Task<void> {
        slept_from = sched.now();
        co_await sched.sleep_for(2ms);
        woke_at = sched.now();
        log.push_back("main woke");
        result = co_await doubled_later(sched, input);
        log.push_back("main done");
        sched.stop();
    };
    sched.spawn(main_task());
    sched.spawn(sleep_then_log(sched, 1ms, "short sleeper", log));
    sched.run();
    CHECK_FALSE(guard.fired());
    CHECK(result == input * 2);
    CHECK(woke_at - slept_from >= 2ms);  // a sleep never ends early
    CHECK(log == std::vector<std::string>{"short sleeper", "main woke", "main done"});
}

TEMPLATE_TEST_CASE("an exception escaping a detached task reaches the handler", "[sched][task]",
                   SCHEDULERS) {
    TestType sched;
    HangGuard guard(sched);
    std::string caught;
    ScopedDetachedHandler handler([&](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::runtime_error& e) {
            caught = e.what();
        }
        sched.stop();
    });
    sched.spawn(failing_task(sched, "task failed on purpose"));
    CHECK_NOTHROW(sched.run());
    CHECK_FALSE(guard.fired());
    CHECK(caught == "task failed on purpose");
}

TEMPLATE_TEST_CASE("run() returns when nothing is left to do", "[sched]", SCHEDULERS) {
    TestType sched;
    sched.run();  // empty: must not block
    bool ran = false;
    sched.add_timer(sched.now() + 1ms, [&] { ran = true; });
    sched.run();
    CHECK(ran);
}
