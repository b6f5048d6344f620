// loss_detection.hpp — time- and order-based loss detection both engines share, after RACK-TLP
// (RFC 8985): the reordering window, the tail-loss probe timeout, and the detection of lost
// retransmissions during SACK recovery.
//
// Contract: pure functions over tcp_common values (RtoEstimator, SackScoreboard); no clock reads,
// no allocation. The engines own the timers and decide when to call them:
//   - reorder_window(): how long SACKed data may sit above an unacknowledged hole before the
//     hole is deemed lost (RFC 8985 6.2: reo_wnd = min_RTT / 4, at most SRTT), never below
//     kMinReorderWindow (the engines' timer granularity);
//   - probe_timeout(): RFC 8985 7.2's PTO = 2 SRTT (+ the peer's delayed-ACK allowance when one
//     segment is in flight), never below kMinProbeTimeout. The floor matters at sub-millisecond
//     RTTs: a PTO of a few microseconds fires whenever one loop turn passes without an ACK and
//     retransmits data that was never lost (Linux uses the same 10 ms floor);
//   - restart_lost_retransmissions(): SACKs for data sent after a round of hole retransmissions
//     began say those retransmissions were lost too; the scoreboard's round is restarted so
//     NextSeg resends them, instead of waiting for the RTO and its backoff.
#pragma once

#include <chrono>
#include <cstdint>

#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/sack_scoreboard.hpp"
#include "netloom/tcp_common/seq.hpp"

namespace netloom::tcp {

inline constexpr Duration kMinReorderWindow = std::chrono::milliseconds(1);
inline constexpr Duration kMinProbeTimeout = std::chrono::milliseconds(10);
/// RFC 8985 7.2 WCDelAckT: the allowance for the *peer's* delayed ACK when one segment is in
/// flight. Its value is the peer's, not ours: RFC 1122 4.2.3.2 lets a receiver wait up to
/// 500 ms and common stacks wait up to 200 ms (the RFC's recommendation), so our own
/// `delack_timeout` (40 ms) would fire the probe before such a peer's ACK.
inline constexpr Duration kWorstCaseDelayedAck = std::chrono::milliseconds(200);

/// RFC 8985 6.2 reo_wnd: min_RTT / 4, capped at SRTT, at least kMinReorderWindow. Meaningful
/// only once `rto` has a sample.
Duration reorder_window(const RtoEstimator& rto) noexcept;

/// RFC 8985 7.2 PTO: 2 SRTT, plus `delayed_ack_allowance` when at most one segment is in flight
/// (its ACK may be delayed), at least kMinProbeTimeout. The caller bounds it by the RTO.
Duration probe_timeout(const RtoEstimator& rto, bool one_segment_in_flight,
                       Duration delayed_ack_allowance) noexcept;

/// Lost retransmissions during SACK recovery (RFC 8985 6.2's "a segment sent later was
/// delivered", counted in DupThresh segments as RFC 6675 counts duplicates):
///   - DupThresh segments' worth of data resent later in this round was SACKed while the first
///     hole is still missing: the holes below the highest such byte were lost again and are
///     resent, the round's later retransmissions stay in flight;
///   - DupThresh segments sent after the round began (`rxt_fence`, SND.MAX then) were SACKed
///     while SND.UNA is still missing: the whole round is restarted.
/// Either way `rxt_fence` moves to `snd_max`. Returns true when a round was restarted.
bool restart_lost_retransmissions(SackScoreboard& board, SeqNum snd_una, SeqNum snd_max,
                                  SeqNum& rxt_fence, std::uint32_t smss) noexcept;

}  // namespace netloom::tcp
