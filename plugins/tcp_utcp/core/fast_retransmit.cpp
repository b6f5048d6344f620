// fast_retransmit.cpp — loss recovery driven by duplicate ACKs: fast retransmit and NewReno fast
// recovery (RFC 5681 3.2, RFC 6582 3.2) when SACK is off, and RFC 6675 SACK-based recovery
// (IsLost / NextSeg / pipe from tcp_common's scoreboard) when it was negotiated. The congestion
// window arithmetic is tcp_common's CongestionControl; this file decides when recovery starts
// and ends and what to resend.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/loss_detection.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

void retransmit_first_unacked(Tcb& tcb, Time now, Outputs& out) {
    const std::uint32_t sent = send_range(tcb, tcb.snd_una, tcb.max_payload(), now, out);
    if (sent == 0) return;
    ++tcb.retransmits;
    tcb.rtt_seq.reset();  // Karn (RFC 6298 3): the timed segment may now be ambiguous
}

void deliver_in_dup_ack(Tcb& tcb, Time now, Outputs& out) {
    ++tcb.dup_acks;
    // RFC 6675 5.1: the recovery that follows an RTO runs until RecoveryPoint is acknowledged;
    // its SACK information drives sack_output, no new recovery starts meanwhile.
    if (tcb.in_sack_recovery() && !tcb.cc.in_recovery()) return;
    if (tcb.cc.in_recovery()) {
        // RFC 5681 3.2 step 4: inflate; output_tcp may send new data. Under RFC 6675 the pipe
        // estimate does this job (the ACK's SACK blocks lowered it).
        if (!tcb.in_sack_recovery()) tcb.cc.on_dup_ack();
        return;
    }
    if (tcb.dup_acks != 3) return;  // DupThresh (RFC 5681 2, RFC 6675 2)
    // RFC 6582 3.2 step 2: no new recovery while the ACKs still cover data sent before the last
    // one began (they would be duplicates caused by our own retransmissions).
    if (tcb.recover && tcp::le(tcb.snd_una, *tcb.recover)) return;
    if (tcb.sack_ok && tcb.snd_nxt == tcb.snd_max) {
        enter_sack_recovery(tcb, now, out);
        return;
    }
    tcb.recover = tcb.snd_max;
    tcb.cc.enter_recovery(tcb.flight_size(), now, tcp::RecoveryStyle::newreno);
    ++tcb.fast_retransmits;
    retransmit_first_unacked(tcb, now, out);  // RFC 5681 3.2 step 3
}

void deliver_in_recovery_ack(Tcb& tcb, std::uint32_t acked_bytes, Time now, Outputs& out) {
    tcb.dup_acks = 0;
    if (!tcb.recover || tcp::ge(tcb.snd_una, *tcb.recover)) {
        tcb.cc.exit_recovery(tcb.flight_size());  // full ACK (RFC 6582 3.2 step 3)
        return;
    }
    // Partial ACK (step 5): deflate, resend the next hole, restart the timer.
    tcb.cc.on_partial_ack(acked_bytes);
    retransmit_first_unacked(tcb, now, out);
    tcb.timers.rexmt = now + tcb.rto.rto();
}

void enter_sack_recovery(Tcb& tcb, Time now, Outputs& out) {
    if (!tcb.scoreboard) tcb.scoreboard.emplace(tcb.snd_una, tcb.max_payload());
    tcp::SackScoreboard& board = *tcb.scoreboard;
    // RFC 6675 5 steps (4.1)-(4.2): RecoveryPoint = HighData; ssthresh and cwnd per RFC 5681
    // (cwnd = ssthresh: pipe, not inflation, accounts for what left the network).
    tcb.recover = tcb.snd_max;
    board.begin_recovery(tcb.snd_max);
    tcb.rxt_fence = tcb.snd_max;
    tcb.cc.enter_recovery(tcb.flight_size(), now, tcp::RecoveryStyle::sack);
    ++tcb.fast_retransmits;
    ++tcb.sack_recoveries;
    // (4.3): retransmit the first segment presumed dropped, from HighACK + 1 up to the first
    // SACKed byte.
    std::uint32_t length = tcb.max_payload();
    if (!board.ranges().empty())
        length = std::min(length, tcp::forward_distance(tcb.snd_una, board.ranges()[0].left));
    const std::uint32_t sent = send_range(tcb, tcb.snd_una, length, now, out);
    if (sent > 0) {
        ++tcb.retransmits;
        tcb.rtt_seq.reset();
        board.on_sent(tcp::NextSegment{tcb.snd_una, sent, tcp::NextSegRule::lost_retransmit});
    }
    // (4.4): then send what pipe allows (step C).
    sack_output(tcb, now, out);
    // The timer now guards the retransmission: first as a probe of the first hole after
    // 2 SRTT (timer_tt_tlp), then as the RTO (RFC 6298 5.3 restarts it for a retransmission).
    detail::arm_rexmt(tcb, now);
}

void sack_output(Tcb& tcb, Time now, Outputs& out) {
    tcp::SackScoreboard& board = *tcb.scoreboard;
    const std::uint32_t smss = tcb.max_payload();
    // Lost retransmissions (tcp_common/loss_detection): SACKs for data resent later in this
    // round, or sent after it began, while holes below HighRxt are still missing say those
    // holes' retransmissions were lost; resend them now instead of after the RTO's backoff.
    tcp::restart_lost_retransmissions(board, tcb.snd_una, tcb.snd_max, tcb.rxt_fence, smss);
    // Each pass sends at least one byte of new sequence space or raises HighRxt/RescueRxt, so
    // the loop ends; the bound is a guard against a scoreboard bug turning into a hang.
    for (int guard = 0; guard < 4096; ++guard) {
        // RFC 6675 5 (C): send while cwnd - pipe >= 1 SMSS.
        const std::uint32_t pipe = board.pipe(tcb.snd_max);
        const std::uint32_t cwnd = tcb.cc.cwnd();
        if (pipe >= cwnd || cwnd - pipe < smss) break;
        // Rule 2's new data: queued, unsent, and inside the peer's window.
        const std::uint32_t unsent = tcb.send_buffer.size() - tcb.bytes_sent_unacked();
        const std::uint32_t in_window = tcp::forward_distance(tcb.snd_una, tcb.snd_max);
        const std::uint32_t window_room = tcb.snd_wnd > in_window ? tcb.snd_wnd - in_window : 0;
        const auto next = board.next_segment(tcb.snd_max, std::min(unsent, window_room));
        if (!next) break;
        const std::uint32_t sent = send_range(tcb, next->start, next->length, now, out);
        if (sent == 0) break;
        if (next->rule == tcp::NextSegRule::new_data) {
            tcb.snd_nxt = tcb.snd_max = tcb.snd_max + sent;
        } else {
            ++tcb.retransmits;
            tcb.rtt_seq.reset();
        }
        board.on_sent(tcp::NextSegment{next->start, sent, next->rule});
        detail::arm_rexmt_if_idle(tcb, now);
    }
}

}  // namespace netloom::utcp
