// window.hpp — window rules: receiver silly-window avoidance, the sender's SWS/Nagle decision,
// and window scaling.
//
// Contract (all pure functions of their arguments, bytes unless said otherwise):
// - receive_window_to_advertise (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3): the receiver keeps the
//   right edge where it is until the window can open by at least min(MSS, buffer / 2); it never
//   shrinks the window it offered (RFC 9293 3.8.6.2.2 / RFC 7323 2.4), so when free space is
//   below the current window (should not happen) the current window stands.
// - should_send_now (RFC 9293 3.8.6.2.1 with RFC 896 Nagle): send when a full segment fits;
//   or when the data is pushed, all of it fits, and nothing is unacknowledged (Nagle: the
//   "nothing unacknowledged" part is dropped with nodelay); or when at least half the largest
//   window the peer ever offered can be sent (same Nagle condition). The override timer of
//   rule (4) and the zero-window persist timer are the engine's: with usable_window 0 this
//   says no.
// - sws_max_window: the "maximum window seen" that rule (3) halves. RFC 9293 3.8.6.2.1 says
//   Max(SND.WND) is the largest window seen since the connection was opened; we count only
//   windows from segments after the peer's SYN (`max_window_after_syn`, kept by the engine).
//   The SYN's window is unscaled and offered before the peer knows our MSS, usually a default
//   (often 65535) rather than what it will offer once data flows: counting it made a peer
//   whose whole window is 1 KiB wait for the override timer on every segment (a half-window
//   of 32 KiB is never sendable into 1 KiB); Linux, which sends into such a window every round
//   trip, likewise starts a passive connection's maximum from the ACK completing the
//   handshake, not from the SYN. Until a window arrives after the SYN, the
//   current one (the SYN's) stands in. A large-window peer that later offers a tiny window is
//   still held to half of its large post-handshake window, so SWS stays avoided.
// - window scaling (RFC 7323 2): the shift for a buffer is the smallest that lets 65535 << shift
//   cover it, at most 14 (2.3); a received shift above 14 is used as 14 (2.3). SYN segments carry
//   the window unscaled (2.2): the engine must not call these on them.
// - zero_window_probe_length (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17): a zero window is probed
//   with one byte of new data (the RFC's "at least one octet of new data"), sent at SND.NXT past
//   the right edge. Both engines probe this way: a receiver whose window reopened (its update
//   lost) takes the byte and moves on at once, where an empty probe (Linux's SEG.SEQ =
//   SND.UNA - 1) only draws the window and costs another round trip.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace netloom::tcp {

inline constexpr std::uint8_t kMaxWindowScale = 14;  // RFC 7323 2.3

/// `free_space`: RCV.BUFF - RCV.USER (buffer not holding unread or out-of-order data);
/// `current_window`: what remains of the last offer, RCV.WND = right edge - RCV.NXT.
std::uint32_t receive_window_to_advertise(std::uint32_t free_space, std::uint32_t current_window,
                                          std::uint32_t buffer_size, std::uint32_t mss) noexcept;

/// `queued`: bytes waiting to be sent; `usable_window`: min(peer window, cwnd) - bytes in flight;
/// `unacked`: SND.NXT - SND.UNA; `max_peer_window`: the largest window the peer offered (0:
/// unknown, disables the half-window rule).
bool should_send_now(std::uint32_t queued, std::uint32_t mss, std::uint32_t usable_window,
                     std::uint32_t unacked, bool nodelay, bool pushing,
                     std::uint32_t max_peer_window = 0) noexcept;

/// RFC 9293 3.8.6.2.1 Max(SND.WND) for should_send_now: the largest window from a segment after
/// the peer's SYN, or the current window while none has come yet.
constexpr std::uint32_t sws_max_window(std::uint32_t max_window_after_syn,
                                       std::uint32_t snd_wnd) noexcept {
    return std::max(max_window_after_syn, snd_wnd);
}

/// Smallest shift (<= 14) such that 65535 << shift >= buffer_size.
std::uint8_t choose_window_scale(std::size_t buffer_size) noexcept;

constexpr std::uint8_t clamp_window_scale(std::uint8_t received) noexcept {
    return std::min(received, kMaxWindowScale);
}
/// A received window field, scaled to bytes.
constexpr std::uint32_t decode_window(std::uint16_t field, std::uint8_t shift) noexcept {
    return std::uint32_t{field} << clamp_window_scale(shift);
}
/// The field for a window in bytes: rounded down to the scale unit, at most 65535 units.
constexpr std::uint16_t encode_window(std::uint32_t window, std::uint8_t shift) noexcept {
    return static_cast<std::uint16_t>(
        std::min<std::uint32_t>(window >> clamp_window_scale(shift), 0xffff));
}
/// Same, rounded up: for re-advertising an edge already offered, where rounding down would
/// shrink the window (RFC 7323 2.4); the excess is below one scale unit.
constexpr std::uint16_t encode_window_round_up(std::uint32_t window, std::uint8_t shift) noexcept {
    const std::uint8_t s = clamp_window_scale(shift);
    const std::uint64_t units = (std::uint64_t{window} + ((std::uint64_t{1} << s) - 1)) >> s;
    return static_cast<std::uint16_t>(std::min<std::uint64_t>(units, 0xffff));
}

/// Bytes of new data a zero-window probe carries: one, when any is queued.
constexpr std::uint32_t zero_window_probe_length(std::uint32_t queued) noexcept {
    return std::min<std::uint32_t>(queued, 1);
}

}  // namespace netloom::tcp
