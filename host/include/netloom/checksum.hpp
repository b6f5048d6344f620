// checksum.hpp — the Internet checksum (RFC 1071) as a plugin, shared by IP, ICMP, UDP and TCP.
//
// Contract: `partial(bytes, acc)` adds `bytes` to a running one's-complement sum as if they were
// a sequence of big-endian 16-bit words starting at an even offset of the summed message; an odd
// trailing byte is padded with zero. `acc` is an opaque accumulator (any width the plugin likes,
// kept below 2^64) so partial sums of even-length pieces can be chained. `fold` reduces it to 16
// bits (not complemented). `finish` = ~fold. Any pointer alignment is accepted.
// `copy_partial(destination, source, acc)` copies and sums in one call (the send path's single
// pass from a send buffer into a packet); its default copies, then sums the copy, and a plugin
// may fuse the two. `add_at_odd_offset` adds the sum of a piece that starts at an odd offset of
// the message (RFC 1071 2(B): the byte-swapped sum), so pieces of any length can be chained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "netloom/plugin.hpp"

namespace netloom {

class Checksum : public PluginObject {
public:
    virtual std::uint64_t partial(std::span<const std::uint8_t> bytes,
                                  std::uint64_t acc = 0) const noexcept = 0;

    static std::uint16_t fold(std::uint64_t acc) noexcept {
        acc = (acc & 0xffffffffu) + (acc >> 32);
        acc = (acc & 0xffffffffu) + (acc >> 32);
        acc = (acc & 0xffffu) + (acc >> 16);
        acc = (acc & 0xffffu) + (acc >> 16);
        acc = (acc & 0xffffu) + (acc >> 16);
        return static_cast<std::uint16_t>(acc);
    }
    /// Copies `source` into `destination` (the same size, not overlapping) and returns
    /// partial(destination, acc).
    virtual std::uint64_t copy_partial(std::span<std::uint8_t> destination,
                                       std::span<const std::uint8_t> source,
                                       std::uint64_t acc = 0) const noexcept {
        if (!source.empty()) std::memcpy(destination.data(), source.data(), source.size());
        return partial(destination.first(source.size()), acc);
    }
    /// Adds to `acc` the sum of `piece_sum` (a partial() of a piece on its own) for a piece
    /// that starts at an odd offset of the message: its bytes sit in the other half of each
    /// 16-bit word, and the one's-complement sum of swapped words is the swapped sum.
    static std::uint64_t add_at_odd_offset(std::uint64_t acc, std::uint64_t piece_sum) noexcept {
        const std::uint16_t folded = fold(piece_sum);
        return acc + static_cast<std::uint16_t>(folded << 8 | folded >> 8);
    }
    /// The value to store in a header checksum field.
    std::uint16_t finish(std::span<const std::uint8_t> bytes,
                         std::uint64_t acc = 0) const noexcept {
        return static_cast<std::uint16_t>(~fold(partial(bytes, acc)));
    }
    /// RFC 1624 eqn. 3: new checksum HC' = ~(~HC + ~m + m') after a 16-bit field m became m'.
    static std::uint16_t update16(std::uint16_t checksum, std::uint16_t old_word,
                                  std::uint16_t new_word) noexcept {
        std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
        sum += static_cast<std::uint16_t>(~old_word);
        sum += new_word;
        return static_cast<std::uint16_t>(~fold(sum));
    }
    static std::uint16_t update32(std::uint16_t checksum, std::uint32_t old_value,
                                  std::uint32_t new_value) noexcept {
        checksum = update16(checksum, static_cast<std::uint16_t>(old_value >> 16),
                            static_cast<std::uint16_t>(new_value >> 16));
        return update16(checksum, static_cast<std::uint16_t>(old_value),
                        static_cast<std::uint16_t>(new_value));
    }
    /// Name of the code path chosen at load (e.g. "avx512", "avx2"), for logs and benchmarks.
    virtual const char* variant() const noexcept = 0;
};

}  // namespace netloom
