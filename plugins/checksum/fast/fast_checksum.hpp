// fast_checksum.hpp — a portable Internet checksum (RFC 1071) that sums 32-bit loads into four
// independent 64-bit accumulators, in the CPU's native byte order.
//
// Contract: exactly netloom::Checksum's; the result folds to the same 16 bits as the reference.
// Any pointer alignment and length are accepted (loads go through memcpy). The returned
// accumulator is below 2^34 whatever `acc` came in (any value below 2^64).
#pragma once

#include <cstdint>
#include <span>

#include "netloom/checksum.hpp"

namespace netloom::checksum {

class FastChecksum final : public Checksum {
public:
    std::uint64_t partial(std::span<const std::uint8_t> bytes,
                          std::uint64_t acc = 0) const noexcept override;
    /// One pass: each 8-byte load is stored to `destination` and added to the sum.
    std::uint64_t copy_partial(std::span<std::uint8_t> destination,
                               std::span<const std::uint8_t> source,
                               std::uint64_t acc = 0) const noexcept override;
    const char* variant() const noexcept override { return "scalar64"; }
};

}  // namespace netloom::checksum
