// detail.hpp — helpers shared by the rule files of the core; not part of the shell's interface.
//
// Contract: same as rules.hpp (pure functions of the Tcb, the input and `now`).
#pragma once

#include "core/rules.hpp"

namespace netloom::utcp::detail {

/// Enter TIME-WAIT: stop every timer but the 2*MSL one (RFC 9293 3.10.7.4).
void enter_time_wait(Tcb& tcb, Time now, Outputs& out);
/// The handshake completed (either side): RTT sample, RFC 6298 5.7, timers, events.
void on_established(Tcb& tcb, const Segment& segment, Time now, Outputs& out);
/// Re-arm the keepalive timer after activity (RFC 1122 4.2.3.6), if keepalive is on.
void arm_keepalive(Tcb& tcb, Time now) noexcept;
/// RTT in ms from an echoed timestamp (RFC 7323 4), if the echo is plausible: not zero and not
/// newer than our clock nor older than `max_age`.
std::optional<std::chrono::milliseconds> rtt_from_echo(const Tcb& tcb, const Segment& segment,
                                                       Time now, Time max_age) noexcept;
/// The options a data/ACK segment carries now (timestamps, SACK blocks), as encoded bytes.
std::uint32_t data_option_space(const Tcb& tcb) noexcept;
/// (Re)start the retransmission timer (RFC 6298 5.1/5.3). With SACK, outside recovery and with
/// an RTT sample, it first fires as a tail loss probe after PTO = 2 SRTT (RFC 8985 7.2).
void arm_rexmt(Tcb& tcb, Time now) noexcept;
/// arm_rexmt unless the timer is already running.
inline void arm_rexmt_if_idle(Tcb& tcb, Time now) noexcept {
    if (!tcb.timers.rexmt) arm_rexmt(tcb, now);
}
/// Arm the persist timer with the current backoff (RFC 1122 4.2.2.17) if it is not running.
void arm_persist(Tcb& tcb, Time now) noexcept;
/// Stop the persist timer and forget its backoff (the window opened).
void cancel_persist(Tcb& tcb) noexcept;
/// The connection gave up: timed_out, or the soft ICMP error seen meanwhile (RFC 1122 4.2.3.9).
void give_up(Tcb& tcb, Outputs& out);
/// ACK processing of RFC 9293 3.10.7.4 "fifth" once the ACK is acceptable: SND.UNA and the
/// buffers, RTT, congestion control and loss recovery (NewReno or RFC 6675), SACK scoreboard,
/// window update, the FIN-acknowledged transitions. False if the connection ended.
bool deliver_in_ack(Tcb& tcb, const Segment& segment, Time now, Outputs& out);

/// What the received text asks of the ACK (RFC 1122 4.2.3.2, RFC 5681 4.2).
enum class AckPolicy : std::uint8_t { none, delayed, now };
/// "seventh"/"eighth": queue text (in order or not), then the FIN when it is in sequence.
AckPolicy deliver_in_text(Tcb& tcb, const Segment& segment, Time now, Outputs& out);
/// An ACK is owed for in-order data: send it now (every second full-sized segment, or delayed
/// ACKs off) or arm the delayed-ACK timer.
void schedule_ack(Tcb& tcb, Time now, Outputs& out);

/// RFC 6675 recovery may start now if a loss is detected: SACK in use and holding information,
/// no recovery running, nothing rewound, and SND.UNA above `recover` (RFC 6582 3.2 step 2,
/// RFC 6675 5.1).
bool may_enter_sack_recovery(const Tcb& tcb) noexcept;
/// RFC 8985 6.2 reordering window: min_RTT / 4 (at most SRTT), at least 1 ms (tcp_common).
Time reorder_window(const Tcb& tcb) noexcept;

/// Whether a segment sent now would move the right edge of the receive window (receiver SWS
/// avoidance included, RFC 9293 3.8.6.2.2). Changes nothing.
bool window_would_open(const Tcb& tcb) noexcept;
/// The right edge would move by a significant amount (RFC 1122 4.2.3.3): worth an update alone.
bool window_update_due(const Tcb& tcb) noexcept;

/// Drop SACK state that no longer holds anything (memory per idle connection).
void trim_sack_state(Tcb& tcb) noexcept;

/// RFC 2883: if SACK is on and [left, right) repeats data already received (below RCV.NXT, or
/// out of order too when `queued` is set), the next ACK reports it. True if it did.
bool note_duplicate(Tcb& tcb, SeqNum left, SeqNum right, bool queued);

}  // namespace netloom::utcp::detail
