// The RFC 1071 sum written the way §1 describes it: add adjacent octets paired as 16-bit
// integers, then fold the carries (left to Checksum::fold).
#include "ref_checksum.hpp"

#include <cstddef>

namespace netloom::checksum {

std::uint64_t RefChecksum::partial(std::span<const std::uint8_t> bytes,
                                   std::uint64_t acc) const noexcept {
    // Folding the incoming accumulator once keeps its value modulo 0xffff (2^32 = 1 mod 0xffff)
    // and bounds it below 2^33, which leaves room for 2^47 more words before the 64-bit sum
    // could wrap: far more than any buffer.
    std::uint64_t sum = (acc & 0xffffffffu) + (acc >> 32);
    const std::uint8_t* bytes_at = bytes.data();
    const std::size_t size = bytes.size();

    std::size_t offset = 0;
    for (; offset + 1 < size; offset += 2) {
        // Network byte order: the first octet is the high half of the word.
        sum += static_cast<std::uint32_t>(bytes_at[offset]) << 8 | bytes_at[offset + 1];
    }
    if (offset < size) {
        // RFC 1071 §4.1: an odd final octet is padded on the right with zero.
        sum += static_cast<std::uint32_t>(bytes_at[offset]) << 8;
    }
    return sum;
}

}  // namespace netloom::checksum
