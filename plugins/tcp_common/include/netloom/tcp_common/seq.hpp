// seq.hpp — TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4).
//
// Contract: `SeqNum` is a plain value (no invariants beyond its 32 bits). Adding or subtracting
// an offset wraps modulo 2^32. The order `lt/le/gt/ge` is the RFC's: `a < b` iff the signed
// 32-bit difference a - b is negative, which is meaningful only while the two numbers are less
// than 2^31 apart (the sequence space a connection ever has in flight is far smaller: windows
// are at most 2^30, RFC 7323 2.3). It is deliberately not `operator<`: the relation is not a
// total order (not transitive around the circle), so it must not be used by std::sort or maps.
// `in_window(seq, start, len)` is RFC 9293's `start <= seq < start + len`, evaluated as an
// unsigned distance so it is exact for any len up to 2^32 - 1 and false for len 0.
#pragma once

#include <cstdint>

namespace netloom::tcp {

class SeqNum {
public:
    constexpr SeqNum() noexcept = default;
    constexpr explicit SeqNum(std::uint32_t value) noexcept : value_(value) {}

    constexpr std::uint32_t value() const noexcept { return value_; }

    constexpr SeqNum operator+(std::uint32_t offset) const noexcept {
        return SeqNum(value_ + offset);
    }
    constexpr SeqNum operator-(std::uint32_t offset) const noexcept {
        return SeqNum(value_ - offset);
    }
    constexpr SeqNum& operator+=(std::uint32_t offset) noexcept {
        value_ += offset;
        return *this;
    }
    constexpr SeqNum& operator-=(std::uint32_t offset) noexcept {
        value_ -= offset;
        return *this;
    }
    /// Signed distance `*this - other`: positive when *this is after other (RFC 9293 3.4).
    constexpr std::int32_t operator-(SeqNum other) const noexcept {
        return static_cast<std::int32_t>(value_ - other.value_);
    }

    constexpr bool operator==(const SeqNum&) const noexcept = default;

private:
    std::uint32_t value_ = 0;
};

constexpr bool lt(SeqNum a, SeqNum b) noexcept {
    return (a - b) < 0;
}
constexpr bool le(SeqNum a, SeqNum b) noexcept {
    return (a - b) <= 0;
}
constexpr bool gt(SeqNum a, SeqNum b) noexcept {
    return (a - b) > 0;
}
constexpr bool ge(SeqNum a, SeqNum b) noexcept {
    return (a - b) >= 0;
}

constexpr SeqNum seq_max(SeqNum a, SeqNum b) noexcept {
    return lt(a, b) ? b : a;
}
constexpr SeqNum seq_min(SeqNum a, SeqNum b) noexcept {
    return lt(a, b) ? a : b;
}

/// Bytes from `from` forward to `to`, modulo 2^32 (the unsigned view of `to - from`).
constexpr std::uint32_t forward_distance(SeqNum from, SeqNum to) noexcept {
    return to.value() - from.value();
}

/// start <= seq < start + len, modulo 2^32 (RFC 9293 3.4 acceptability tests).
constexpr bool in_window(SeqNum seq, SeqNum start, std::uint32_t len) noexcept {
    return forward_distance(start, seq) < len;
}

}  // namespace netloom::tcp
