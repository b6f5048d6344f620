// syn_cookie.hpp — SYN cookies in the style of RFC 4987 3.6: a listener under SYN flood answers
// with a SYN-ACK whose ISN encodes what it needs, and keeps no state until a valid ACK returns.
//
// Contract: the cookie (our ISN) is, from the top bit down:
//   5 bits  t = (now / 64 s) mod 32, the time slot;
//   3 bits  an index into kMssTable: the largest entry not above the peer's MSS;
//   24 bits the low bits of SipHash-2-4(key, 4-tuple || peer ISN || full slot number || index).
// Hashing the full 64-bit slot number (not just t) means a cookie cannot validate again when t
// wraps after 32 slots (~34 minutes). validate() takes the ACK segment's SEQ and ACK numbers
// (cookie = ACK - 1, peer ISN = SEQ - 1), accepts cookies from the current slot and the one
// before (so a cookie lives between 64 and 128 s), and returns the encoded MSS. A random ACK
// passes with probability 2/32 * 2^-24 = 2^-28.
// What survives the cookie: the MSS only (rounded down to the table). Window scaling, SACK-
// permitted and timestamps are not encoded (Linux's trick of storing them in the TSval is not
// implemented), so a connection completed from a cookie runs without them — as Linux does when
// the peer does not send timestamps. A peer MSS below the smallest entry (64) gets no cookie:
// the engine drops that SYN rather than exceed the peer's limit.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::tcp {

struct SynCookie {
    SeqNum isn;         ///< our ISN for the SYN-ACK
    std::uint16_t mss;  ///< the MSS it encodes (what the connection will use)
};

class SynCookies {
public:
    static constexpr std::array<std::uint16_t, 8> kMssTable = {64,   536,  1220, 1300,
                                                               1440, 1460, 4312, 8960};
    static constexpr std::chrono::seconds kSlot{64};
    static constexpr std::uint32_t kSlotsValid = 2;  // current and previous

    explicit SynCookies(const SipKey& key) noexcept : key_(key) {}

    std::optional<SynCookie> encode(const FourTuple& tuple, SeqNum peer_isn, std::uint16_t peer_mss,
                                    std::chrono::nanoseconds now) const noexcept;
    /// The MSS encoded in a valid cookie, or empty (expired, forged, other 4-tuple).
    std::optional<std::uint16_t> validate(const FourTuple& tuple, SeqNum segment_seq,
                                          SeqNum segment_ack,
                                          std::chrono::nanoseconds now) const noexcept;

private:
    std::uint32_t hash24(const FourTuple& tuple, SeqNum peer_isn, std::uint64_t slot,
                         std::uint32_t mss_index) const noexcept;

    SipKey key_;
};

}  // namespace netloom::tcp
