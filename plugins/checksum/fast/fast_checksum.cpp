// Why this is correct: RFC 1071 §2(B) — the one's-complement sum is byte-order independent: the
// sum of the byte-swapped words is the byte-swapped sum. So the bytes are summed as native-order
// (little-endian on x86-64) words and only the folded 16-bit result is swapped to network order.
// And since 2^16 = 1 (mod 0xffff), a 32-bit load (two words) may be added whole: its high word
// counts the same as if it were added on its own (§2(C), "parallel summation").
#include "fast_checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

namespace netloom::checksum {
namespace {

std::uint32_t load_u32(const std::uint8_t* at) noexcept {
    std::uint32_t value;
    std::memcpy(&value, at, sizeof value);  // any alignment; compiles to a plain load
    return value;
}

std::uint16_t load_u16(const std::uint8_t* at) noexcept {
    std::uint16_t value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

// Each accumulator takes one 32-bit value (< 2^32) per 16 bytes, so a 1 GiB chunk adds at most
// 2^26 of them: no 64-bit accumulator can wrap before the chunk's sum is folded.
constexpr std::size_t kChunkBytes = std::size_t{1} << 30;

// The native-order sum of one chunk (at most kChunkBytes), as four accumulators added together
// after each was folded to 32 bits.
std::uint64_t native_sum(const std::uint8_t* at, std::size_t size) noexcept {
    std::uint64_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    // Unrolled by 32 bytes: four independent dependency chains keep the adders busy.
    for (; size >= 32; at += 32, size -= 32) {
        sum0 += load_u32(at);
        sum1 += load_u32(at + 4);
        sum2 += load_u32(at + 8);
        sum3 += load_u32(at + 12);
        sum0 += load_u32(at + 16);
        sum1 += load_u32(at + 20);
        sum2 += load_u32(at + 24);
        sum3 += load_u32(at + 28);
    }
    for (; size >= 4; at += 4, size -= 4) sum0 += load_u32(at);
    if (size >= 2) {
        sum1 += load_u16(at);
        at += 2;
        size -= 2;
    }
    // A lone trailing byte is the first byte of a native word whose other byte is the zero
    // padding of RFC 1071 §4.1: its low half on a little-endian CPU, its high half otherwise.
    if (size == 1) sum2 += std::endian::native == std::endian::little ? *at : *at << 8;

    auto fold_to_33_bits = [](std::uint64_t value) {
        return (value & 0xffffffffu) + (value >> 32);
    };
    return fold_to_33_bits(sum0) + fold_to_33_bits(sum1) + fold_to_33_bits(sum2) +
           fold_to_33_bits(sum3);
}

std::uint64_t load_u64(const std::uint8_t* at) noexcept {
    std::uint64_t value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

void store_u64(std::uint8_t* at, std::uint64_t value) noexcept {
    std::memcpy(at, &value, sizeof value);
}

/// native_sum of `source` (at most kChunkBytes) while copying it to `destination`. A 64-bit load
/// is two 32-bit words: adding both halves keeps each accumulator's bound of native_sum (two
/// values below 2^32 per 32 bytes).
std::uint64_t native_copy_sum(std::uint8_t* destination, const std::uint8_t* source,
                              std::size_t size) noexcept {
    std::uint64_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    constexpr std::uint64_t kLow = 0xffffffffu;
    for (; size >= 32; source += 32, destination += 32, size -= 32) {
        const std::uint64_t a = load_u64(source), b = load_u64(source + 8),
                            c = load_u64(source + 16), d = load_u64(source + 24);
        store_u64(destination, a);
        store_u64(destination + 8, b);
        store_u64(destination + 16, c);
        store_u64(destination + 24, d);
        sum0 += (a & kLow) + (a >> 32);
        sum1 += (b & kLow) + (b >> 32);
        sum2 += (c & kLow) + (c >> 32);
        sum3 += (d & kLow) + (d >> 32);
    }
    // The tail starts at a multiple of 32 (an even offset), so its sum adds to the rest.
    if (size > 0) std::memcpy(destination, source, size);
    auto fold_to_33_bits = [](std::uint64_t value) {
        return (value & 0xffffffffu) + (value >> 32);
    };
    return fold_to_33_bits(sum0) + fold_to_33_bits(sum1) + fold_to_33_bits(sum2) +
           fold_to_33_bits(sum3) + native_sum(destination, size);
}

/// The network-order accumulator partial() returns, from a folded native-order sum.
std::uint64_t to_network_order(std::uint64_t native, std::uint64_t acc) noexcept {
    // A folded sum is zero only if every byte was zero, and swapping keeps that, so the result
    // folds to exactly the reference's 16 bits (not merely an equivalent one's-complement zero).
    const auto folded = static_cast<std::uint16_t>(native);
    const std::uint64_t network_order = std::endian::native == std::endian::big
                                            ? folded
                                            : static_cast<std::uint16_t>(folded << 8 | folded >> 8);
    return (acc & 0xffffffffu) + (acc >> 32) + network_order;
}

}  // namespace

std::uint64_t FastChecksum::copy_partial(std::span<std::uint8_t> destination,
                                         std::span<const std::uint8_t> source,
                                         std::uint64_t acc) const noexcept {
    const std::uint8_t* from = source.data();
    std::uint8_t* to = destination.data();
    std::size_t size = source.size();
    std::uint64_t native = 0;
    while (size > 0) {
        const std::size_t chunk = std::min(size, kChunkBytes);
        native = fold(native + native_copy_sum(to, from, chunk));
        from += chunk;
        to += chunk;
        size -= chunk;
    }
    return to_network_order(native, acc);
}

std::uint64_t FastChecksum::partial(std::span<const std::uint8_t> bytes,
                                    std::uint64_t acc) const noexcept {
    const std::uint8_t* at = bytes.data();
    std::size_t size = bytes.size();
    std::uint64_t native = 0;  // folded to 16 bits after each chunk
    while (size > 0) {
        // Chunks are even-sized, so every chunk starts at an even offset of the message.
        const std::size_t chunk = std::min(size, kChunkBytes);
        native = fold(native + native_sum(at, chunk));
        at += chunk;
        size -= chunk;
    }
    return to_network_order(native, acc);
}

}  // namespace netloom::checksum
