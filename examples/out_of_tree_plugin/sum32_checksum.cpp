// Summing 32-bit words is the same one's-complement sum as summing 16-bit words (RFC 1071 2(C)):
// the carries out of the low half are folded back by Checksum::fold.
#include "sum32_checksum.hpp"

namespace example {

std::uint64_t Sum32Checksum::partial(std::span<const std::uint8_t> bytes,
                                     std::uint64_t acc) const noexcept {
    // Keep the incoming accumulator below 2^48 so the loop cannot overflow for any span shorter
    // than 2^16 * 4 GiB.
    std::uint64_t sum = (acc & 0xffffffffffffu) + (acc >> 48);
    std::size_t i = 0;
    for (; i + 4 <= bytes.size(); i += 4) {
        sum += (std::uint64_t{bytes[i]} << 24) | (std::uint64_t{bytes[i + 1]} << 16) |
               (std::uint64_t{bytes[i + 2]} << 8) | bytes[i + 3];
    }
    for (; i + 2 <= bytes.size(); i += 2) sum += (std::uint64_t{bytes[i]} << 8) | bytes[i + 1];
    if (i < bytes.size()) sum += std::uint64_t{bytes[i]} << 8;  // odd byte, zero-padded
    return sum;
}

}  // namespace example
