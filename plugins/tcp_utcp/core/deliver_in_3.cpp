// deliver_in_3.cpp — a segment in SYN-RECEIVED or a synchronized state, in the order of RFC 9293
// 3.10.7.4: timestamp presence (RFC 7323 3.2), PAWS (RFC 7323 5.3, before the sequence test),
// sequence acceptability (4 cases), RST (deliver_in_7, RFC 5961 3, RFC 1337), SYN
// (deliver_in_8, RFC 5961 4), ACK (RFC 5961 5; deliver_in_ack.cpp), TS.Recent (RFC 7323 4.3),
// URG (ignored), text and FIN (deliver_in_text.cpp), then the ACK policy and output.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/paws.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

/// RFC 9293 3.10.7.4 "first": the four cases of the acceptability test.
bool sequence_acceptable(const Tcb& tcb, SeqNum seq, std::uint32_t len) {
    const std::uint32_t window = tcb.rcv_wnd();
    if (len == 0)
        return window == 0 ? seq == tcb.rcv_nxt : tcp::in_window(seq, tcb.rcv_nxt, window);
    if (window == 0) return false;
    return tcp::in_window(seq, tcb.rcv_nxt, window) ||
           tcp::in_window(seq + (len - 1), tcb.rcv_nxt, window);
}

/// RFC 7323 5.3 R1 (PAWS) with the 24-day rule of 5.5 (tcp_common): true if the segment is a
/// stale duplicate by its timestamp.
bool paws_rejects(const Tcb& tcb, const Segment& segment, Time now) {
    const auto& ts = segment.options.timestamps;
    if (!tcb.ts_ok || !ts || segment.rst()) return false;
    return tcp::paws_rejects(ts->value, tcb.ts_recent, now - tcb.ts_recent_time);
}

/// RFC 9293 3.10.7.4 "second": RST. Returns true if the segment was consumed.
bool process_rst(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    // RFC 5961 3.2: only an exact match resets; in-window gets a challenge ACK.
    if (segment.seq != tcb.rcv_nxt) {
        out.note(kNoteRstIgnored);
        send_challenge_ack(tcb, now, out);
        return true;
    }
    switch (tcb.state) {
        case TcpState::syn_received:
            drop_connection(tcb, tcb.passive ? TcpError::reset : TcpError::refused, out);
            break;
        case TcpState::closing:
        case TcpState::last_ack: drop_connection(tcb, TcpError::none, out); break;
        default: drop_connection(tcb, TcpError::reset, out); break;
    }
    return true;
}

}  // namespace

void deliver_in_3(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    const std::uint32_t len = segment.seq_length();
    const auto& ts = segment.options.timestamps;
    // RFC 7323 3.2: once timestamps are on, a non-RST segment without TSopt is dropped.
    if (tcb.ts_ok && !ts && !segment.rst()) {
        out.note(kNoteNoTimestamp);
        return;
    }
    // RFC 1337 (TIME-WAIT assassination): a RST in TIME-WAIT is ignored, not obeyed.
    if (tcb.state == TcpState::time_wait && segment.rst()) {
        out.note(kNoteRstIgnored);
        return;
    }
    if (paws_rejects(tcb, segment, now)) {
        out.note(kNotePaws);
        // Like Linux, the part below RCV.NXT of a segment PAWS drops is reported (RFC 2883).
        detail::note_duplicate(tcb, segment.seq, segment.seq + len, false);
        send_ack(tcb, now, out);  // RFC 7323 5.3 R1: ACK and drop
        return;
    }
    const bool acceptable = sequence_acceptable(tcb, segment.seq, len);
    // RFC 9293 3.10.7.4 "first": with a zero window "no segments will be acceptable, but
    // special allowance should be made to accept valid ACKs, URGs, and RSTs". A segment at
    // RCV.NXT goes through the RST, SYN and ACK checks; its text and FIN are dropped and
    // acknowledged like any unacceptable segment's.
    const bool header_only = !acceptable && tcb.rcv_wnd() == 0 && segment.seq == tcb.rcv_nxt &&
                             !segment.syn() && tcb.state != TcpState::time_wait;
    if (header_only) out.note(kNoteUnacceptable);
    if (!acceptable && !header_only) {
        out.note(segment.rst() ? kNoteRstIgnored : kNoteUnacceptable);
        if (segment.rst()) return;
        if (tcb.state == TcpState::time_wait) {
            // RFC 9293 3.10.7.4: only the peer's retransmitted FIN (ending exactly at RCV.NXT)
            // restarts the 2 MSL wait; anything else (an off-path sender's FIN included) gets
            // a rate-limited ACK and cannot keep the TCB alive.
            if (segment.fin() && segment.seq + len == tcb.rcv_nxt) {
                tcb.timers.time_wait = now + 2 * tcb.config->msl;
                send_ack(tcb, now, out);
            } else {
                send_challenge_ack(tcb, now, out);
            }
            return;
        }
        if (tcb.state == TcpState::syn_received && segment.syn() && !segment.ack.has_value() &&
            segment.seq == tcb.irs) {
            // The peer's SYN again: our SYN-ACK was lost. Resend it now (as Linux does) rather
            // than an ACK, which a peer in SYN-SENT would ignore.
            send_syn(tcb, now, out);
            return;
        }
        // RFC 5961 4.2: a SYN in a synchronized state gets a (rate-limited) challenge ACK
        // "irrespective of the sequence number"; in SYN-RECEIVED it is the peer's retransmitted
        // SYN, answered like any unacceptable segment.
        if (segment.syn() && tcb.state != TcpState::syn_received) {
            send_challenge_ack(tcb, now, out);
            return;
        }
        // A retransmission of what we already acknowledged: D-SACK it (RFC 2883 4.1.1).
        detail::note_duplicate(tcb, segment.seq, segment.seq + len, false);
        send_ack(tcb, now, out);
        return;
    }
    if (segment.rst()) {
        process_rst(tcb, segment, now, out);
        return;
    }
    // "fourth": SYN. RFC 5961 4.2: any SYN here gets a challenge ACK, never a reset.
    if (segment.syn()) {
        send_challenge_ack(tcb, now, out);
        return;
    }
    // "fifth": ACK.
    if (!segment.ack.has_value()) return;
    if (tcb.state == TcpState::syn_received) {
        if (!(tcp::lt(tcb.snd_una, *segment.ack) && tcp::le(*segment.ack, tcb.snd_nxt))) {
            OutgoingSegment reply =
                make_segment(tcb, *segment.ack, rst, now);  // <SEQ=SEG.ACK><CTL=RST>
            out.segments.push_back(std::move(reply));
            return;
        }
        tcb.state = tcb.fin_queued ? TcpState::fin_wait_1 : TcpState::established;
        tcb.snd_una = *segment.ack;
        tcb.snd_wnd = tcp::decode_window(segment.window, tcb.snd_wscale);
        tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
        tcb.max_snd_wnd_after_syn = std::max(tcb.max_snd_wnd_after_syn, tcb.snd_wnd);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = *segment.ack;
        tcb.scoreboard.reset();
        detail::on_established(tcb, segment, now, out);
    }
    // RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT (SND.MAX here,
    // since SND.NXT rewinds on a timeout); otherwise ACK (rate limited) and drop.
    if (tcp::gt(*segment.ack, tcb.snd_max) ||
        tcp::lt(*segment.ack, tcb.snd_una - tcb.max_snd_wnd)) {
        out.note(kNoteAckUnsent);
        send_challenge_ack(tcb, now, out);
        return;
    }
    // RFC 7323 4.3 (2): the segment passed every check; remember its TSval if it covers
    // Last.ACK.sent (and is not older: PAWS let it through only then, or TS.Recent expired).
    if (tcb.ts_ok && tcp::le(segment.seq, tcb.last_ack_sent)) {
        tcb.ts_recent = ts->value;
        tcb.ts_recent_time = now;
    }
    // The peer is alive: keepalive starts over (RFC 1122 4.2.3.6), probes are answered.
    tcb.unanswered_probes = 0;
    detail::arm_keepalive(tcb, now);

    if (!detail::deliver_in_ack(tcb, segment, now, out)) return;  // the connection ended
    // "sixth": URG is ignored (RFC 6093 discourages it; the data is delivered inline).
    // "seventh" and "eighth": text and FIN.
    const detail::AckPolicy policy =
        header_only ? detail::AckPolicy::now : detail::deliver_in_text(tcb, segment, now, out);
    if (policy == detail::AckPolicy::now) send_ack(tcb, now, out);
    output_tcp(tcb, now, out);
    // A data segment sent by output_tcp carried the ACK; otherwise decide when to send it.
    if (policy == detail::AckPolicy::delayed && tcb.last_ack_sent != tcb.rcv_nxt)
        detail::schedule_ack(tcb, now, out);
}

}  // namespace netloom::utcp
