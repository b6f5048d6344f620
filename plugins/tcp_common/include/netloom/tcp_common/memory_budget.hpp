// memory_budget.hpp — an engine-wide memory budget (`tcp: {memory_limit: ...}`), in the manner of
// Linux's tcp_mem: one running total of the bytes every connection holds, three levels, and the
// rules the engines apply at each (plugins/tcp_common/README.md, "Memory budget").
//
// Contract: pure bookkeeping, no I/O. The owner (the front half) keeps each connection's share
// in `charged` and moves it to the connection's current footprint after every event that can
// change it (`recharge`: O(1), the total is never recomputed by a walk); `object_bytes` is the
// part of a share that is the connection itself (its object and table node, constant per
// share), the rest is buffers. total() is the bytes held, peak() its highest value.
// Committed bytes: the total plus kUnaskedAllowance per share (a connection may create its SACK
// state, ~430 bytes, while handling an ACK or a timeout without asking: the allowance keeps
// room for it). Levels, limit L, room = L - objects - allowances (what buffers may use):
// `pressure` is entered when the buffers reach 3/4 of the room and left when they fall below
// 1/2 of it (hysteresis, so windows do not flap; measured on buffers so that the pressure ends
// once the apps have read everything, however many idle connections there are); `hard` is
// committed + reserve + extra > L, where `reserve` is the most one event may add when it asks
// (a receive ring's growth, a send ring's, a new connection) and `extra` what the event brings
// (a received packet's buffer). An owner that refuses every asked growth at `hard` therefore
// never exceeds L (peak() <= L). limit 0: unlimited (always `normal`, the total and peak still
// kept).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

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
/// Per connection: the SACK scoreboard and receiver an ACK or a timeout may create unasked.
inline constexpr std::size_t kUnaskedAllowance = 512;
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
        bool below_pressure = false;  ///< the buffers are below the pressure threshold now
    };

    MemoryBudget(std::uint64_t limit, std::size_t reserve) noexcept
        : limit_(limit), reserve_(reserve) {
        update_thresholds();
    }

    /// Moves one share (`charged`, the owner's record of it) to `bytes`, of which
    /// `object_bytes` (at most) are the connection itself; a share of 0 bytes is none. The
    /// common case (a connection's buffers changed) is a few additions and comparisons.
    Change recharge(std::size_t& charged, std::size_t bytes,
                    std::size_t object_bytes = std::numeric_limits<std::size_t>::max()) noexcept {
        if (bytes == charged) return {};
        if (charged == 0 || bytes == 0 || object_bytes == std::numeric_limits<std::size_t>::max())
            [[unlikely]] {
            // A share begins or ends, or a share that is all object (the table) changes:
            // the objects, the allowances and with them the thresholds move.
            shares_ = shares_ + (bytes != 0) - (charged != 0);
            objects_ = objects_ + std::min(bytes, object_bytes) - std::min(charged, object_bytes);
            update_thresholds();
        }
        total_ = total_ - charged + bytes;
        charged = bytes;
        if (total_ > peak_) peak_ = total_;
        Change change;
        if (limit_ == 0) return change;
        const std::size_t held = buffers();
        if (!pressure_ && held >= enter_) {
            pressure_ = true;
            change.pressure_entered = true;
        } else if (pressure_ && held < leave_) {
            pressure_ = false;
            change.pressure_left = true;
        }
        change.below_pressure = held < enter_;
        return change;
    }

    /// The level for an event bringing `extra` bytes of its own.
    MemoryLevel level(std::size_t extra = 0) const noexcept {
        if (limit_ == 0) return MemoryLevel::normal;
        if (total_ + extra > hard_at_) return MemoryLevel::hard;
        return pressure_ ? MemoryLevel::pressure : MemoryLevel::normal;
    }
    /// The total plus the allowance of every share: what the hard level compares.
    std::size_t committed() const noexcept { return total_ + shares_ * kUnaskedAllowance; }
    /// Bytes that are not the connections themselves (rings, slices and their packets...).
    std::size_t buffers() const noexcept { return total_ - objects_; }
    /// What the buffers may use: the limit less the objects and the allowances.
    std::size_t buffer_room() const noexcept {
        const std::size_t fixed = objects_ + shares_ * kUnaskedAllowance;
        return limit_ > fixed ? static_cast<std::size_t>(limit_ - fixed) : 0;
    }

    std::uint64_t limit() const noexcept { return limit_; }
    std::size_t reserve() const noexcept { return reserve_; }
    std::size_t total() const noexcept { return total_; }
    std::size_t peak() const noexcept { return peak_; }
    bool under_pressure() const noexcept { return pressure_; }

private:
    void update_thresholds() noexcept {
        const std::size_t room = buffer_room();
        enter_ = room - room / 4;
        leave_ = room / 2;
        const std::size_t fixed = reserve_ + shares_ * kUnaskedAllowance;
        hard_at_ = limit_ > fixed ? static_cast<std::size_t>(limit_ - fixed) : 0;
    }

    std::uint64_t limit_;
    std::size_t reserve_;
    std::size_t total_ = 0, peak_ = 0;
    /// Cached from the shares: pressure entered at / left below these buffer bytes; hard past
    /// hard_at_ total bytes (limit - reserve - allowances).
    std::size_t enter_ = 0, leave_ = 0, hard_at_ = 0;
    std::size_t shares_ = 0;   ///< shares of more than 0 bytes
    std::size_t objects_ = 0;  ///< the connection objects among the total
    bool pressure_ = false;
};

}  // namespace netloom::tcp
