// siphash.hpp — SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012),
// the keyed hash behind ISNs (RFC 6528) and SYN cookies (RFC 4987 3.6).
//
// Contract: `siphash24(key, message)` returns the 64-bit SipHash-2-4 of the bytes with the
// 128-bit key (16 bytes, read little-endian as k0 || k1, as the paper specifies). Pure, no
// allocation; the reference vector (key 00..0f, message 00..0e -> 0xa129ca6149be45e5) is a test.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace netloom::tcp {

using SipKey = std::array<std::uint8_t, 16>;

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> message) noexcept;

}  // namespace netloom::tcp
