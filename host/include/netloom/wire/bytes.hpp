// wire/bytes.hpp — big-endian (network order) loads and stores on raw bytes.
//
// Contract: the load/store functions read or write exactly 2 or 4 bytes at `at`, with any
// alignment. Nothing here checks bounds: callers are the wire views and Reprs, which check lengths
// once, up front.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace netloom::wire {

constexpr std::uint16_t load_be16(const std::uint8_t* at) noexcept {
    return static_cast<std::uint16_t>((at[0] << 8) | at[1]);
}

constexpr std::uint32_t load_be32(const std::uint8_t* at) noexcept {
    return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) |
           (std::uint32_t{at[2]} << 8) | std::uint32_t{at[3]};
}

constexpr void store_be16(std::uint8_t* at, std::uint16_t value) noexcept {
    at[0] = static_cast<std::uint8_t>(value >> 8);
    at[1] = static_cast<std::uint8_t>(value);
}

constexpr void store_be32(std::uint8_t* at, std::uint32_t value) noexcept {
    at[0] = static_cast<std::uint8_t>(value >> 24);
    at[1] = static_cast<std::uint8_t>(value >> 16);
    at[2] = static_cast<std::uint8_t>(value >> 8);
    at[3] = static_cast<std::uint8_t>(value);
}

/// Puts `payload` at `at` for an emit. When the payload already sits there (the caller built the
/// packet around it, the zero-copy path) nothing is copied; overlapping ranges are handled.
inline void place_payload(std::uint8_t* at, std::span<const std::uint8_t> payload) noexcept {
    if (!payload.empty() && payload.data() != at) std::memmove(at, payload.data(), payload.size());
}

}  // namespace netloom::wire
