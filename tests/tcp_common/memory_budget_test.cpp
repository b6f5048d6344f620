// MemoryBudget (tcp_common/memory_budget.hpp): the running total, its peak, the three levels
// with their thresholds (pressure entered at 3/4 of the limit, left below 1/2, hard when an
// event's reserve and own bytes would pass the limit) and the unlimited budget.
#include <catch2/catch.hpp>

#include "netloom/tcp_common/memory_budget.hpp"

using netloom::tcp::MemoryBudget;
using netloom::tcp::MemoryLevel;

TEST_CASE("memory budget: shares move the total incrementally and the peak only grows",
          "[tcp_common][memory_budget]") {
    MemoryBudget budget(0, 0);  // unlimited: still counted
    std::size_t a = 0, b = 0;
    budget.recharge(a, 1000);
    budget.recharge(b, 500);
    CHECK(budget.total() == 1500);
    budget.recharge(a, 200);  // a shrank
    CHECK(budget.total() == 700);
    CHECK(a == 200);
    CHECK(budget.peak() == 1500);
    budget.recharge(b, 0);
    CHECK(budget.total() == 200);
    CHECK(budget.level(std::size_t{1} << 40) == MemoryLevel::normal);  // never limited
}

TEST_CASE("memory budget: pressure at 3/4 of the limit, left below 1/2 (hysteresis)",
          "[tcp_common][memory_budget]") {
    MemoryBudget budget(1000, 100);
    std::size_t share = 0;
    auto change = budget.recharge(share, 749);
    CHECK_FALSE(change.pressure_entered);
    CHECK(budget.level() == MemoryLevel::normal);
    change = budget.recharge(share, 750);
    CHECK(change.pressure_entered);
    CHECK_FALSE(change.below_pressure);
    CHECK(budget.level() == MemoryLevel::pressure);
    // Between the thresholds the level stays: no flapping.
    change = budget.recharge(share, 600);
    CHECK_FALSE(change.pressure_left);
    CHECK(change.below_pressure);
    CHECK(budget.level() == MemoryLevel::pressure);
    change = budget.recharge(share, 500);
    CHECK_FALSE(change.pressure_left);
    change = budget.recharge(share, 499);
    CHECK(change.pressure_left);
    CHECK(budget.level() == MemoryLevel::normal);
    // Re-entering is a new episode.
    CHECK(budget.recharge(share, 800).pressure_entered);
}

TEST_CASE("memory budget: hard when the reserve and the event's own bytes would pass the limit",
          "[tcp_common][memory_budget]") {
    MemoryBudget budget(1000, 100);
    std::size_t share = 0;
    budget.recharge(share, 850);
    CHECK(budget.level() == MemoryLevel::pressure);  // 850 + 100 <= 1000
    CHECK(budget.level(50) == MemoryLevel::pressure);
    CHECK(budget.level(51) == MemoryLevel::hard);  // a packet of 51 bytes would not fit
    budget.recharge(share, 901);
    CHECK(budget.level() == MemoryLevel::hard);
    // Hard does not depend on the pressure state: a budget just below it is still hard.
    budget.recharge(share, 400);
    CHECK(budget.level(600) == MemoryLevel::hard);
    CHECK(budget.level(500) == MemoryLevel::normal);
}

TEST_CASE("memory budget: the reserve covers a ring's growth and the minimum limit leaves room",
          "[tcp_common][memory_budget]") {
    const std::size_t reserve = netloom::tcp::memory_reserve(4096, 65536);
    CHECK(reserve >= 65536 + netloom::tcp::kEventSlack);  // the send ring may grow to all of it
    CHECK(netloom::tcp::memory_reserve(65536, 4096) >= 65536 + netloom::tcp::kEventSlack);
    const std::uint64_t min = netloom::tcp::min_memory_limit(4096, 65536);
    MemoryBudget budget(min, reserve);
    std::size_t share = 0;
    // At the minimum limit the hard level starts no lower than the pressure threshold.
    budget.recharge(share, budget.pressure_threshold() - 1);
    CHECK(budget.level() == MemoryLevel::normal);
}
