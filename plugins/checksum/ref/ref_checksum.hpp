// ref_checksum.hpp — the reference Internet checksum (RFC 1071): the oracle the other checksum
// plugins are tested against.
//
// Contract: exactly netloom::Checksum's. `partial` reads the bytes as big-endian 16-bit words, one
// at a time, padding an odd trailing byte with zero, and adds them to `acc` (folded to 33 bits
// first, so any accumulator below 2^64 may come in). No tricks: clarity over speed.
#pragma once

#include <cstdint>
#include <span>

#include "netloom/checksum.hpp"

namespace netloom::checksum {

class RefChecksum final : public Checksum {
public:
    std::uint64_t partial(std::span<const std::uint8_t> bytes,
                          std::uint64_t acc = 0) const noexcept override;
    const char* variant() const noexcept override { return "ref"; }
};

}  // namespace netloom::checksum
