// MemoryBudget (tcp_common/memory_budget.hpp): the running total, its peak, the three levels
// with their thresholds (pressure entered at 3/4 of the limit, left below 1/2, hard when an
// event's reserve and own bytes would pass the limit) and the unlimited budget.
#include <catch2/catch.hpp>
#include <vector>

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

TEST_CASE("memory budget: pressure at 3/4 of the buffers' room, left below 1/2 (hysteresis)",
          "[tcp_common][memory_budget]") {
    constexpr std::size_t a = netloom::tcp::kUnaskedAllowance;
    constexpr std::size_t object = 1000;  // the connection itself, not buffers
    MemoryBudget budget(100000, 1000);
    std::size_t share = 0;
    budget.recharge(share, object, object);
    // The room for buffers: the limit less the object and its allowance for unasked state.
    const std::size_t room = budget.buffer_room();
    CHECK(room == 100000 - object - a);
    CHECK(budget.buffers() == 0);
    const std::size_t enter = room - room / 4, leave = room / 2;
    auto change = budget.recharge(share, object + enter - 1, object);
    CHECK_FALSE(change.pressure_entered);
    CHECK(budget.level() == MemoryLevel::normal);
    change = budget.recharge(share, object + enter, object);
    CHECK(change.pressure_entered);
    CHECK(budget.level() == MemoryLevel::pressure);
    // Between the thresholds the level stays: no flapping.
    change = budget.recharge(share, object + leave, object);
    CHECK_FALSE(change.pressure_left);
    CHECK(change.below_pressure);
    CHECK(budget.level() == MemoryLevel::pressure);
    change = budget.recharge(share, object + leave - 1, object);
    CHECK(change.pressure_left);
    CHECK(budget.level() == MemoryLevel::normal);
    // Re-entering is a new episode.
    CHECK(budget.recharge(share, object + enter + 10, object).pressure_entered);
    // A share back to 0 bytes takes its object and allowance with it.
    budget.recharge(share, 0, object);
    CHECK(budget.committed() == 0);
    CHECK(budget.buffer_room() == 100000);
}

TEST_CASE("memory budget: idle connections alone do not hold the engine under pressure",
          "[tcp_common][memory_budget]") {
    MemoryBudget budget(100000, 1000);
    std::vector<std::size_t> shares(60, 0);
    for (auto& share : shares) budget.recharge(share, 1000, 1000);  // objects only: 90 KiB
    CHECK(budget.buffers() == 0);
    CHECK(budget.level() == MemoryLevel::normal);
    // ... but they count toward the hard limit, with their allowances.
    CHECK(budget.committed() == 60 * (1000 + netloom::tcp::kUnaskedAllowance));
    CHECK(budget.level(100000 - budget.committed() - 1000 + 1) == MemoryLevel::hard);
}

TEST_CASE("memory budget: hard when the reserve and the event's own bytes would pass the limit",
          "[tcp_common][memory_budget]") {
    constexpr std::size_t a = netloom::tcp::kUnaskedAllowance;
    MemoryBudget budget(10000, 1000);
    std::size_t share = 0;
    budget.recharge(share, 8500 - a, 0);             // all buffers
    CHECK(budget.level() == MemoryLevel::pressure);  // 8500 + 1000 <= 10000
    CHECK(budget.level(500) == MemoryLevel::pressure);
    CHECK(budget.level(501) == MemoryLevel::hard);  // a packet of 501 bytes would not fit
    budget.recharge(share, 9001 - a, 0);
    CHECK(budget.level() == MemoryLevel::hard);
    // Hard does not depend on the pressure state: a budget below the pressure is still hard
    // for a large enough event.
    budget.recharge(share, 4000 - a, 0);
    CHECK(budget.level(5001) == MemoryLevel::hard);
    CHECK(budget.level(5000) == MemoryLevel::normal);
}

TEST_CASE("memory budget: the reserve covers a ring's growth", "[tcp_common][memory_budget]") {
    const std::size_t reserve = netloom::tcp::memory_reserve(4096, 65536);
    CHECK(reserve >= 65536 + netloom::tcp::kEventSlack);  // the send ring may grow to all of it
    CHECK(netloom::tcp::memory_reserve(65536, 4096) >= 65536 + netloom::tcp::kEventSlack);
    CHECK(netloom::tcp::min_memory_limit(4096, 65536) == 4 * reserve);
}
