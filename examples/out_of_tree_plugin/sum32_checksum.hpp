// sum32_checksum.hpp — the sample plugin's Checksum: RFC 1071 summed over 32-bit big-endian
// words into a 64-bit accumulator. Small enough to read in one sitting; fast enough to be useful.
#pragma once

#include "netloom/checksum.hpp"

namespace example {

class Sum32Checksum final : public netloom::Checksum {
public:
    std::uint64_t partial(std::span<const std::uint8_t> bytes,
                          std::uint64_t acc) const noexcept override;
    const char* variant() const noexcept override { return "sum32"; }
};

}  // namespace example
