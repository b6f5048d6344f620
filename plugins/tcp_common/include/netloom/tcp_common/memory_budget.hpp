// memory_budget.hpp — an engine-wide memory budget (`tcp: {memory_limit: ...}`), in the manner of
// Linux's tcp_mem: one running total of the bytes every connection holds, three levels, and the
// rules the engines apply at each (plugins/tcp_common/README.md, "Memory budget").
//
// Contract: pure bookkeeping, no I/O. The owner (the front half) keeps each connection's share
// in `charged` and moves it to the connection's current footprint after every event that can
// change it (`recharge`: O(1), the total is never recomputed by a walk). Levels, limit L:
// `pressure` is entered when the total reaches 3/4 L and left when it falls below 1/2 L
// (hysteresis, so windows do not flap); `hard` is total + reserve + extra > L, where `reserve`
// is the most one event may add unasked (a receive ring's growth, a send ring's, a new
// connection) and `extra` what the event brings (a received packet's buffer). An owner that
// refuses every growth at `hard` therefore never exceeds L (peak() <= L). limit 0: unlimited
// (always `normal`, the total and peak still kept).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "netloom/tcp_common/slice_table.hpp"

namespace netloom::tcp {

enum class MemoryLevel : std::uint8_t {
    normal,    ///< windows open, everything accepted
    pressure,  ///< no window opens, out-of-order data and new connections refused
    hard,      ///< also in-order data and the app's sends refused
};

/// The reserve of an engine whose connections have `rcvbuf` / `sndbuf` buffers: the most one
/// event adds besides a received packet's buffer. Receiving: the receive ring's growth (a
/// collapse allocates up to the whole ring, README of reassembly_buffer.hpp) plus a full slice
/// table; sending: the send ring's growth (up to all of it); plus kEventSlack for the small
/// per-connection state an event may create (a new connection object and its table node, the
/// SACK scoreboard and receiver, the range array).
inline constexpr std::size_t kEventSlack = 8192;
inline std::size_t memory_reserve(std::uint32_t rcvbuf, std::uint32_t sndbuf) noexcept {
    const std::size_t receive =
        std::size_t{rcvbuf} + SliceTable::kMaxEntries * sizeof(SliceTable::Slice);
    return std::max<std::size_t>(receive, sndbuf) + kEventSlack;
}
/// The smallest memory_limit: the hard level must lie at or above the pressure threshold.
inline std::uint64_t min_memory_limit(std::uint32_t rcvbuf, std::uint32_t sndbuf) noexcept {
    return 4 * std::uint64_t{memory_reserve(rcvbuf, sndbuf)};
}

class MemoryBudget {
public:
    /// What a recharge changed (for the owner's counters and its relief).
    struct Change {
        bool pressure_entered = false;
        bool pressure_left = false;
        bool below_pressure = false;  ///< the total is below the pressure threshold now
    };

    MemoryBudget(std::uint64_t limit, std::size_t reserve) noexcept
        : limit_(limit), reserve_(reserve), enter_(limit - limit / 4), leave_(limit / 2) {}

    /// Moves one share (`charged`, the owner's record of it) to `bytes`.
    Change recharge(std::size_t& charged, std::size_t bytes) noexcept {
        total_ = total_ - charged + bytes;
        charged = bytes;
        if (total_ > peak_) peak_ = total_;
        Change change;
        if (limit_ == 0) return change;
        if (!pressure_ && total_ >= enter_) {
            pressure_ = true;
            change.pressure_entered = true;
        } else if (pressure_ && total_ < leave_) {
            pressure_ = false;
            change.pressure_left = true;
        }
        change.below_pressure = total_ < enter_;
        return change;
    }

    /// The level for an event that brings `extra` bytes of its own.
    MemoryLevel level(std::size_t extra = 0) const noexcept {
        if (limit_ == 0) return MemoryLevel::normal;
        if (total_ + reserve_ + extra > limit_) return MemoryLevel::hard;
        return pressure_ ? MemoryLevel::pressure : MemoryLevel::normal;
    }

    std::uint64_t limit() const noexcept { return limit_; }
    std::size_t reserve() const noexcept { return reserve_; }
    std::size_t total() const noexcept { return total_; }
    std::size_t peak() const noexcept { return peak_; }
    bool under_pressure() const noexcept { return pressure_; }
    /// The thresholds: pressure entered at or above, left below.
    std::uint64_t pressure_threshold() const noexcept { return enter_; }
    std::uint64_t relief_threshold() const noexcept { return leave_; }

private:
    std::uint64_t limit_;
    std::size_t reserve_;
    std::uint64_t enter_, leave_;
    std::size_t total_ = 0, peak_ = 0;
    bool pressure_ = false;
};

}  // namespace netloom::tcp
