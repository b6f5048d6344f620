// receiver_ack.hpp — when a receiver acknowledges in-order data at once and when it may delay
// the ACK: the rules both engines apply to every segment of text they accept.
//
// Contract (pure, no clock, no allocation):
// - ack_now_for_in_order_data() answers for a segment that advanced RCV.NXT. It says "now" when
//   the segment filled all or part of a gap (RFC 5681 4.2: the sender's recovery must learn of it
//   without waiting for a timer), and for the next kQuickAcksAfterLoss segments after that
//   (Linux's quick-ACK mode: the sender is rebuilding its window after a loss, and delayed ACKs
//   would stretch its RTT samples, hence its RTO and probe timers; RFC 5681 3.2 asks the
//   receiver to keep the sender's ACK clock running during recovery). `quick_acks` is the
//   connection's countdown. Out-of-order segments, duplicates and FINs are ACKed at once by
//   the engines before they get here (RFC 5681 4.2, RFC 9293 3.10.7.4).
// - delayed_ack_due() is the delayed-ACK rule itself (RFC 1122 4.2.3.2, RFC 5681 4.2, RFC 9293
//   3.8.6.3): an ACK is sent at once when at least two full-sized segments' worth of bytes is
//   unacknowledged; otherwise the engine arms its delayed-ACK timer (at most 500 ms). "Full
//   sized" is the largest payload received on the connection (at least kInitialFullSized, the
//   default MSS of RFC 9293 3.7.1), so counting bytes makes a run of small segments wait for
//   the timer or for enough bytes, while two full-sized segments always get their ACK.
#pragma once

#include <algorithm>
#include <cstdint>

namespace netloom::tcp {

/// Segments ACKed at once after a hole in the received data was filled (Linux uses up to half
/// the window in segments; 16 covers a congestion window rebuilt after a single loss).
inline constexpr std::uint8_t kQuickAcksAfterLoss = 16;
/// "Full-sized" before any segment arrived: the default MSS (RFC 9293 3.7.1).
inline constexpr std::uint32_t kInitialFullSized = 536;

/// A segment of in-order text advanced RCV.NXT; `in_gap`: data was held out of order above
/// RCV.NXT when it arrived, so it filled all or part of a gap. True when it must be ACKed at
/// once (updates the quick-ACK countdown).
constexpr bool ack_now_for_in_order_data(bool in_gap, std::uint8_t& quick_acks) noexcept {
    if (in_gap) {
        quick_acks = kQuickAcksAfterLoss;
        return true;
    }
    if (quick_acks > 0) {
        --quick_acks;
        return true;
    }
    return false;
}

/// The largest payload seen so far, "full-sized" for delayed_ack_due().
constexpr std::uint32_t full_sized_after(std::uint32_t full_sized, std::uint32_t payload) noexcept {
    return std::max({full_sized, payload, std::uint32_t{1}});
}

/// `unacked`: RCV.NXT minus the last acknowledgment number we sent; `full_sized`: as kept by
/// full_sized_after(); `our_mss`: the MSS we advertised, which no full-sized segment exceeds
/// (so an MSS below 536 does not make every segment "small"). True: ACK now.
constexpr bool delayed_ack_due(std::uint32_t unacked, std::uint32_t full_sized,
                               std::uint32_t our_mss) noexcept {
    const std::uint32_t full = std::max(std::min(full_sized, our_mss), std::uint32_t{1});
    return std::uint64_t{unacked} >= 2 * std::uint64_t{full};
}

}  // namespace netloom::tcp
