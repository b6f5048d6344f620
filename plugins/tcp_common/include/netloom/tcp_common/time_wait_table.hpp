// time_wait_table.hpp — how many connections wait in TIME-WAIT (RFC 9293 3.10.7.4: 2 MSL)
// and the cap on them (`max_time_wait`, like Linux's tcp_max_tw_buckets): past the cap a
// closing connection goes straight to CLOSED, so a host closing connections fast keeps
// bounded memory.
//
// Contract: `admit` is asked once by a connection entering TIME-WAIT: true (and counted until
// `release`) when there is room, false past the cap; `release` is idempotent. The reuse of a
// 4-tuple held in TIME-WAIT is decided elsewhere: by the engine's RFC 6191 rule for a new SYN
// (FrontHalf asks it), by ephemeral_ports.hpp's `time_wait_reuse` for a connect().
#pragma once

#include <cstddef>
#include <cstdint>

#include "netloom/tcp_common/connection_entry.hpp"

namespace netloom::tcp {

class TimeWaitTable {
public:
    explicit TimeWaitTable(std::uint32_t cap) noexcept : cap_(cap) {}

    bool admit(ConnectionEntry& connection) noexcept {
        if (connection.in_time_wait) return true;
        if (count_ >= cap_) return false;
        ++count_;
        connection.in_time_wait = true;
        return true;
    }
    void release(ConnectionEntry& connection) noexcept {
        if (!connection.in_time_wait) return;
        connection.in_time_wait = false;
        --count_;
    }
    std::size_t count() const noexcept { return count_; }

private:
    std::uint32_t cap_;
    std::size_t count_ = 0;
};

}  // namespace netloom::tcp
