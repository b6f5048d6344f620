// token_bucket.hpp — a token bucket on the scheduler's clock, for ICMP error rate limiting
// (RFC 1812 4.3.2.8 and RFC 1122 3.2.2 ask hosts to limit the rate of ICMP errors they send).
//
// Contract: the bucket starts full with `burst` tokens and gains `rate` tokens per second, never
// holding more than `burst`. `take(now)` spends one token and returns true, or returns false
// when none is left. `now` must not go backwards (a scheduler's now() never does). Integer
// arithmetic only (credit counted in token-nanoseconds), no allocation. Rate 0: the initial burst
// never refills; burst 0: nothing is ever allowed.
#pragma once

#include <algorithm>
#include <cstdint>

#include "netloom/scheduler.hpp"

namespace netloom::ip {

class TokenBucket {
public:
    TokenBucket(std::uint32_t rate_per_second, std::uint32_t burst) noexcept
        : rate_(rate_per_second),
          capacity_(std::uint64_t{burst} * kCreditPerToken),
          credit_(capacity_) {}

    bool take(Time now) noexcept {
        refill(now);
        if (credit_ < kCreditPerToken) return false;
        credit_ -= kCreditPerToken;
        return true;
    }

    /// Whole tokens available at `now` (for tests and counters).
    std::uint64_t available(Time now) noexcept {
        refill(now);
        return credit_ / kCreditPerToken;
    }

private:
    // One token is worth one second of nanoseconds: `rate` tokens per second then adds exactly
    // `rate` credit units per elapsed nanosecond.
    static constexpr std::uint64_t kCreditPerToken = 1'000'000'000;

    void refill(Time now) noexcept {
        if (now <= last_) return;
        const auto elapsed = static_cast<std::uint64_t>((now - last_).count());
        last_ = now;
        if (rate_ == 0 || credit_ >= capacity_) return;
        // Compare before multiplying so a long idle period cannot overflow the product.
        const std::uint64_t missing = capacity_ - credit_;
        if (elapsed >= missing / rate_ + 1) {
            credit_ = capacity_;
        } else {
            credit_ = std::min(capacity_, credit_ + elapsed * rate_);
        }
    }

    std::uint64_t rate_;
    std::uint64_t capacity_;
    std::uint64_t credit_;
    Time last_{0};
};

}  // namespace netloom::ip
