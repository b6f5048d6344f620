// challenge_ack.hpp — the RFC 5961 7 budget of challenge ACKs, one per engine.
//
// Contract: take(now) is true while fewer than `limit` challenge ACKs were allowed in the
// current one-second window (which starts at the first take() at least a second after the
// previous window began) and counts the one allowed. One limiter serves a whole engine (every
// connection of a stack), as RFC 5961 7 suggests ("a system-wide limit") and Linux does (per
// network namespace): a per-connection budget would let an attacker multiply it by opening
// connections, and would let one connection's challenge ACKs be counted twice under load.
// Pure: time comes in, no allocation.
#pragma once

#include <chrono>
#include <cstdint>

namespace netloom::tcp {

class ChallengeAckLimiter {
public:
    explicit ChallengeAckLimiter(std::uint32_t per_second) noexcept : limit_(per_second) {}

    bool take(std::chrono::nanoseconds now) noexcept {
        if (!started_ || now - window_start_ >= std::chrono::seconds(1)) {
            started_ = true;
            window_start_ = now;
            used_ = 0;
        }
        if (used_ >= limit_) return false;
        ++used_;
        return true;
    }

private:
    std::chrono::nanoseconds window_start_{0};
    std::uint32_t limit_;
    std::uint32_t used_ = 0;
    bool started_ = false;
};

}  // namespace netloom::tcp
