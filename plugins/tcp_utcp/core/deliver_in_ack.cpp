// deliver_in_ack.cpp — RFC 9293 3.10.7.4 "fifth" for an acceptable ACK: advance SND.UNA and drop
// acknowledged bytes, RTT samples (RFC 7323 4 / RFC 6298 3), congestion control (RFC 5681),
// duplicate ACKs and loss recovery (RFC 6582 NewReno, RFC 6675 SACK), the SACK scoreboard, the
// send window update (SND.WL1/SND.WL2) and the FIN-acknowledged transitions.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/loss_detection.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

void take_rtt_sample(Tcb& tcb, const Segment& segment, Time now) {
    // One new segment per round trip is timed by its send time (Karn's rule, RFC 6298 3:
    // rtt_seq is cleared when anything is retransmitted), with or without timestamps: the
    // timestamp clock ticks in milliseconds, so at sub-millisecond RTTs its echoes say 0 or
    // 1 ms and SRTT would swing between them (Linux, too, prefers its own send times).
    if (tcb.rtt_seq) {
        if (tcp::ge(*segment.ack, *tcb.rtt_seq)) {
            tcb.rto.on_rtt_sample(now - tcb.rtt_start);
            tcb.rtt_seq.reset();
        }
        return;
    }
    // Nothing timed. After a timeout (the RTO stays backed off until a sample) an echoed
    // timestamp identifies the transmission, retransmitted or not (RFC 7323 4); it cannot be
    // older than the handshake. Otherwise the next new segment is timed within a round trip,
    // and echoes must not fill the gap: every ACK between two timed segments would feed SRTT
    // the 1 ms clock's 0 or 1 ms, and at sub-millisecond RTTs SRTT sat near 0 or 999 us.
    if (tcb.ts_ok && tcb.rto.backoff_count() > 0) {
        if (auto rtt = detail::rtt_from_echo(tcb, segment, now, now - tcb.rtt_start))
            tcb.rto.on_rtt_sample(*rtt);
    }
}

/// SND.UNA < SEG.ACK <= SND.MAX: drop acknowledged bytes, sample RTT, grow cwnd or continue
/// recovery, re-arm the retransmission timer (RFC 6298 5.2/5.3).
void process_new_ack(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    std::uint32_t acked = tcp::forward_distance(tcb.snd_una, *segment.ack);
    if (tcb.fin_queued && !tcb.fin_acked && tcp::gt(*segment.ack, tcb.fin_seq())) {
        tcb.fin_acked = true;
        --acked;
    }
    const std::uint32_t data = std::min(acked, tcb.send_buffer.size());
    tcb.send_buffer.consume(data);
    tcb.bytes_acked += data;
    tcb.snd_una = *segment.ack;
    if (tcp::lt(tcb.snd_nxt, tcb.snd_una)) tcb.snd_nxt = tcb.snd_una;  // acked past a rewind
    take_rtt_sample(tcb, segment, now);
    tcb.rexmt_count = 0;
    tcb.soft_error = TcpError::none;  // progress: an earlier ICMP error no longer matters
    if (tcb.cc.in_recovery()) {
        if (tcb.in_sack_recovery()) {
            // RFC 6675 5 (C): an ACK covering RecoveryPoint ends recovery; a partial one only
            // lets sack_output send more (called by output_tcp after this segment).
            if (tcb.scoreboard->recovery_point_reached()) {
                tcb.scoreboard->end_recovery();
                tcb.cc.exit_recovery(tcb.flight_size());
            } else if (!tcp::gt(tcb.scoreboard->high_rxt(), tcb.snd_una)) {
                // Everything resent so far is acknowledged, so the original transmissions
                // still missing below RecoveryPoint (all sent before it) were lost
                // (RFC 8985 6.2); without this a partial ACK leaves them to the RTO.
                tcb.scoreboard->declare_holes_lost();
            }
            tcb.dup_acks = 0;
        } else {
            deliver_in_recovery_ack(tcb, data, now, out);
        }
    } else {
        tcb.dup_acks = 0;
        // Recovery after an RTO (RFC 6675 5.1) grows cwnd by slow start, and ends once
        // RecoveryPoint (SND.MAX at the timeout) is acknowledged.
        if (tcb.in_sack_recovery() && tcb.scoreboard->recovery_point_reached())
            tcb.scoreboard->end_recovery();
        tcp::AckSample sample;
        sample.acked_bytes = data;
        sample.now = now;
        if (tcb.rto.has_sample()) sample.rtt = tcb.rto.srtt();
        sample.bytes_in_flight = tcb.flight_size();
        sample.window_in_use = tcb.cc.window_in_use(sample.bytes_in_flight + data);
        tcb.cc.on_ack(sample);
    }
    // RFC 6582 "recover" matters only until SND.UNA passes it; keeping it would make every ACK
    // 2 GiB later look "below recover" again (sequence comparison wraps).
    if (tcb.recover && !tcb.cc.in_recovery() && tcp::ge(tcb.snd_una, *tcb.recover))
        tcb.recover.reset();
    if (tcb.snd_una == tcb.snd_max) {
        tcb.timers.rexmt.reset();  // RFC 6298 5.2
    } else {
        detail::arm_rexmt(tcb, now);  // RFC 6298 5.3
    }
    if (data > 0 && !tcb.fin_queued) out.add_event(kTcpWritable);  // no writes after shutdown
}

/// RFC 6675 5: with SACK, a loss is also detected when IsLost(SND.UNA) holds before three
/// duplicate ACKs arrived (several segments SACKed by fewer, larger-stride ACKs).
bool sack_says_lost(const Tcb& tcb) {
    return detail::may_enter_sack_recovery(tcb) && tcb.scoreboard->is_lost(tcb.snd_una);
}

/// RFC 8985 6.2 (RACK) for what DupThresh cannot see: data sent after SND.UNA was SACKed but
/// too little of it for IsLost (a short flight, or the ACK of a tail loss probe). SND.UNA is
/// lost unless it arrives within the reordering window, so the retransmission timer first
/// fires at its end (timer_tt_rexmt then enters recovery) instead of after a TLP and an RTO.
void arm_reorder_window(Tcb& tcb, Time now) {
    if (!tcb.rto.has_sample() || !detail::may_enter_sack_recovery(tcb) ||
        tcb.scoreboard->ranges().empty() || tcb.reorder_pending)
        return;
    const Time deadline = now + detail::reorder_window(tcb);
    if (tcb.timers.rexmt && *tcb.timers.rexmt <= deadline) return;
    tcb.timers.rexmt = deadline;
    tcb.tlp_pending = false;
    tcb.reorder_pending = true;
}

}  // namespace

bool detail::may_enter_sack_recovery(const Tcb& tcb) noexcept {
    return tcb.sack_ok && tcb.scoreboard && !tcb.cc.in_recovery() && !tcb.in_sack_recovery() &&
           tcb.snd_nxt == tcb.snd_max && tcb.snd_una != tcb.snd_max &&
           !(tcb.recover && tcp::le(tcb.snd_una, *tcb.recover));
}

Time detail::reorder_window(const Tcb& tcb) noexcept {
    return tcp::reorder_window(tcb.rto);
}

bool detail::deliver_in_ack(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    const std::uint32_t segment_window = tcp::decode_window(segment.window, tcb.snd_wscale);
    // RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": data outstanding, no data or SYN/FIN carried,
    // SEG.ACK == SND.UNA, the advertised window unchanged (compared before the update below).
    // A zero window is excluded: the receiver is full, which says nothing about loss (and our
    // zero-window probes are answered this way).
    bool duplicate = *segment.ack == tcb.snd_una && tcb.snd_una != tcb.snd_max &&
                     segment.payload.empty() && !segment.fin() && segment_window == tcb.snd_wnd &&
                     segment_window != 0;
    std::uint32_t newly_sacked = 0;
    // The scoreboard learns every cumulative ACK (its SND.UNA must follow), and the SACK
    // blocks; it exists only while it holds ranges or a recovery.
    if (tcb.sack_ok) {
        const std::span<const wire::TcpSackBlock> blocks{segment.options.sack_blocks.data(),
                                                         segment.options.sack_count};
        if (!tcb.scoreboard && !blocks.empty())
            tcb.scoreboard.emplace(tcb.snd_una, tcb.max_payload());
        if (tcb.scoreboard)
            newly_sacked = tcb.scoreboard->on_ack(*segment.ack, blocks, tcb.snd_max);
        // RFC 6675 2 "DupAck": with SACK, an ACK at SND.UNA is a duplicate when it SACKs new
        // data, even if it also updates the window (a reading receiver changes it), and only
        // then: an ACK repeating what is known (a D-SACK for a duplicated segment, a window
        // update) says nothing was lost. Counted, the D-SACKs of one spurious retransmission
        // started another, whose D-SACKs started the next (soak seed 226, 4.5 % duplication:
        // 3339 recoveries without a loss).
        duplicate = newly_sacked > 0 && *segment.ack == tcb.snd_una && tcb.snd_una != tcb.snd_max;
    }
    if (tcp::gt(*segment.ack, tcb.snd_una)) {
        process_new_ack(tcb, segment, now, out);
    } else if (duplicate) {
        ++tcb.dup_acks_received;
        deliver_in_dup_ack(tcb, now, out);
    }
    // RFC 8985 6.2 step 5: loss detection runs on every ACK, not only on one that SACKs
    // something new: a cumulative ACK that ends a recovery can leave SACKed data above a new
    // SND.UNA, and nothing but the reordering window would then start its recovery before the
    // probe and the RTO (soak seed 383).
    if (sack_says_lost(tcb)) {
        enter_sack_recovery(tcb, now, out);
    } else {
        arm_reorder_window(tcb, now);
    }
    detail::trim_sack_state(tcb);
    // Window update (RFC 9293 3.10.7.4 "fifth", the SND.WL1/SND.WL2 rule).
    if (tcp::lt(tcb.snd_wl1, segment.seq) ||
        (tcb.snd_wl1 == segment.seq && tcp::le(tcb.snd_wl2, *segment.ack))) {
        if (segment_window > 0 && tcb.snd_wnd == 0) detail::cancel_persist(tcb);  // reopened
        tcb.snd_wnd = segment_window;
        tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
        tcb.max_snd_wnd_after_syn = std::max(tcb.max_snd_wnd_after_syn, tcb.snd_wnd);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = *segment.ack;
    }
    if (tcb.fin_acked) {
        switch (tcb.state) {
            case TcpState::fin_wait_1:
                tcb.state = TcpState::fin_wait_2;
                // Only a full close may time out here: after shutdown_1 the user still reads.
                if (tcb.user_closed) tcb.timers.fin_wait_2 = now + tcb.config->fin_wait_2_timeout;
                break;
            case TcpState::closing: detail::enter_time_wait(tcb, now, out); break;
            case TcpState::last_ack: drop_connection(tcb, TcpError::none, out); return false;
            default: break;
        }
    }
    return tcb.state != TcpState::closed;
}

void detail::trim_sack_state(Tcb& tcb) noexcept {
    if (tcb.scoreboard && tcb.scoreboard->ranges().empty() && !tcb.scoreboard->in_recovery())
        tcb.scoreboard.reset();
    if (tcb.sack_rx && tcb.sack_rx->size() == 0 && !tcb.sack_rx->dsack_pending())
        tcb.sack_rx.reset();
}

}  // namespace netloom::utcp
