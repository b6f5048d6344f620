// checksum.hpp — the Internet checksum (RFC 1071) as a plugin, shared by IP, ICMP, UDP and TCP.
//
// Contract: `partial(bytes, acc)` adds `bytes` to a running one's-complement sum as if they were
// a sequence of big-endian 16-bit words starting at an even offset of the summed message; an odd
// trailing byte is padded with zero. `acc` is an opaque accumulator (any width the plugin likes,
// kept below 2^64) so partial sums of even-length pieces can be chained. `fold` reduces it to 16
// bits (not complemented). `finish` = ~fold. Any pointer alignment is accepted.
#pragma once

#include <cstddef>
#include <cstdint>
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
