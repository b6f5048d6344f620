// output.cpp — building segments and deciding what to send: ACKs, challenge ACKs, SYN/SYN-ACK,
// data within min(SND.WND, cwnd) (RFC 9293 3.8.6, RFC 5681 3.1) under Nagle and sender SWS
// avoidance (RFC 9293 3.7.4 / 3.8.6.2.1), our FIN, and the RST for a segment to a closed port.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

/// The window field we put on a segment. RFC 7323 2.4 / RFC 9293 3.8.6.2.2: the new window is
/// rounded *down* to the scale unit, so we never offer space the buffer does not have; the
/// right edge we remember (RCV.ADV) never moves left, and data up to it is always accepted
/// even when the rounded field makes it look up to one unit shorter to the peer. SYN segments
/// carry the window unscaled (RFC 7323 2.2). Receiver SWS avoidance (RFC 9293 3.8.6.2.2)
/// measures the opening against Eff.snd.MSS, the connection's effective send MSS (RFC 9293
/// 3.7.1: the peer's MSS option or the path's, minus the TCP options we send), not the MSS we
/// advertise: a peer limited to smaller segments would otherwise wait for more room than one
/// of its full segments needs.
/// Under memory pressure (Tcb::memory_level) the edge does not move: what remains of the last
/// offer is offered again (never retracted, RFC 7323 2.4).
std::uint32_t window_to_offer(const Tcb& tcb) {
    return tcp::receive_window_to_advertise(tcb.rcv_free(), tcb.rcv_wnd(), tcb.config->rcvbuf,
                                            tcb.max_payload());
}
bool window_kept_shut(const Tcb& tcb, bool syn) {
    return !syn && tcb.memory_level != tcp::MemoryLevel::normal;
}
std::uint16_t window_field(const Tcb& tcb, bool syn) {
    const std::uint32_t window = window_kept_shut(tcb, syn) ? tcb.rcv_wnd() : window_to_offer(tcb);
    return tcp::encode_window(window, syn ? 0 : tcb.rcv_wscale);
}

/// The right edge a segment carrying `field` offers.
SeqNum offered_edge(const Tcb& tcb, std::uint16_t field, bool syn) {
    return tcb.rcv_nxt + tcp::decode_window(field, syn ? 0 : tcb.rcv_wscale);
}

/// window_field, remembering the edge it offers in RCV.ADV.
std::uint16_t advertise_window(Tcb& tcb, bool syn) {
    if (window_kept_shut(tcb, syn) && window_to_offer(tcb) > tcb.rcv_wnd()) tcb.window_held = true;
    const std::uint16_t field = window_field(tcb, syn);
    tcb.rcv_adv = tcp::seq_max(tcb.rcv_adv, offered_edge(tcb, field, syn));
    return field;
}

}  // namespace

bool detail::window_would_open(const Tcb& tcb) noexcept {
    return tcp::gt(offered_edge(tcb, window_field(tcb, false), false), tcb.rcv_adv);
}

bool detail::window_update_due(const Tcb& tcb) noexcept {
    // RFC 1122 4.2.3.3 / RFC 9293 3.8.6.2.2: an update alone is worth a segment when the right
    // edge moves by at least min(Eff.snd.MSS, RCV.BUFF / 2); a smaller move rides on the next
    // ACK. receive_window_to_advertise decides on the free space before the field's cap
    // (65535 << scale), so after the cap the edge can move by less than that.
    const SeqNum edge = offered_edge(tcb, window_field(tcb, false), false);
    const std::uint32_t threshold =
        std::min<std::uint32_t>(tcb.max_payload(), tcb.config->rcvbuf / 2);
    return tcp::gt(edge, tcb.rcv_adv) && tcp::forward_distance(tcb.rcv_adv, edge) >= threshold;
}

std::uint32_t detail::data_option_space(const Tcb& tcb) noexcept {
    wire::TcpOptions options;
    if (tcb.ts_ok) options.timestamps = wire::TcpTimestamps{0, 0};
    if (tcb.sack_ok && tcb.sack_rx) tcb.sack_rx->fill(options);
    return static_cast<std::uint32_t>(options.encoded_length());
}

OutgoingSegment make_segment(Tcb& tcb, SeqNum seq, std::uint8_t flags, Time now) {
    OutgoingSegment segment;
    segment.source_port = tcb.tuple.local_port;
    segment.destination_port = tcb.tuple.remote_port;
    segment.seq = seq;
    segment.flags = flags;
    if (flags & ack) {
        segment.ack = tcb.rcv_nxt;
        tcb.last_ack_sent = tcb.rcv_nxt;
        tcb.timers.delack.reset();  // this segment carries the ACK that was owed
    }
    if (!(flags & rst)) {
        segment.window = advertise_window(tcb, (flags & syn) != 0);
        if (tcb.ts_ok && !(flags & syn))
            segment.options.timestamps = wire::TcpTimestamps{ts_clock(tcb, now), tcb.ts_recent};
        if (tcb.sack_ok && tcb.sack_rx && (flags & ack) && !(flags & syn)) {
            tcb.sack_rx->fill(segment.options);
            tcb.sack_rx->on_ack_sent();  // RFC 2883 4 rule 2: a D-SACK block is sent once
            if (tcb.sack_rx->size() == 0) tcb.sack_rx.reset();
        }
    }
    ++tcb.segments_sent;
    return segment;
}

void send_ack(Tcb& tcb, Time now, Outputs& out) {
    out.segments.push_back(make_segment(tcb, tcb.snd_nxt, ack, now));
}

void send_challenge_ack(Tcb& tcb, Time now, Outputs& out) {
    // RFC 5961 7: challenge ACKs are limited per second for the whole engine (as Linux limits
    // them per network namespace), which only the shell sees: it drops the ones past the
    // budget. So this ACK must not count as the ACK we owe: Last.ACK.sent and the delayed-ACK
    // timer stay as they were.
    const SeqNum last_ack_sent = tcb.last_ack_sent;
    const Deadline delack = tcb.timers.delack;
    OutgoingSegment segment = make_segment(tcb, tcb.snd_nxt, ack, now);
    tcb.last_ack_sent = last_ack_sent;
    tcb.timers.delack = delack;
    segment.challenge_ack = true;
    out.note(kNoteChallengeAck);
    out.segments.push_back(std::move(segment));
}

void send_syn(Tcb& tcb, Time now, Outputs& out) {
    const bool syn_ack = tcb.state == TcpState::syn_received;
    OutgoingSegment segment = make_segment(tcb, tcb.iss, syn_ack ? (syn | ack) : syn, now);
    segment.options = syn_options(tcb, now);
    out.segments.push_back(std::move(segment));
    tcb.snd_nxt = tcb.iss + 1;
    tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt);
    detail::arm_rexmt_if_idle(tcb, now);
}

std::uint32_t send_range(Tcb& tcb, SeqNum start, std::uint32_t length, Time now, Outputs& out) {
    const std::uint32_t offset = tcp::forward_distance(tcb.snd_una, start);
    const std::uint32_t buffered = tcb.send_buffer.size();
    const std::uint32_t available = offset < buffered ? buffered - offset : 0;
    // RFC 9293 3.7.1 / RFC 6691: the MSS bounds payload *plus* TCP options, so SACK blocks on a
    // data segment take payload room.
    const std::uint32_t options = detail::data_option_space(tcb);
    const std::uint32_t room = tcb.snd_mss > options ? tcb.snd_mss - options : 1;
    const std::uint32_t payload = std::min({length, available, room});
    const bool fin_in_range =
        tcb.fin_queued && !tcb.fin_acked && offset + payload == buffered && length > payload;
    if (payload == 0 && !fin_in_range) return 0;
    std::uint8_t flags = ack;
    if (fin_in_range) flags |= fin;
    if (payload > 0 && offset + payload == buffered) flags |= psh;
    OutgoingSegment segment = make_segment(tcb, start, flags, now);
    segment.payload_length = payload;  // the shell copies it from the send buffer
    tcb.bytes_sent += payload;
    out.segments.push_back(std::move(segment));
    return payload + (fin_in_range ? 1 : 0);
}

void output_tcp(Tcb& tcb, Time now, Outputs& out) {
    if (!tcb.synchronized() || tcb.state == TcpState::time_wait) return;
    if (tcb.fin_acked) return;
    if (tcb.in_sack_recovery()) {
        sack_output(tcb, now, out);
        return;
    }
    // RFC 5681 3.1 / RFC 9293 3.8.6: usable = min(SND.WND, cwnd) - in flight. RFC 3042
    // (Limited Transmit): each of the first two duplicate ACKs lets one new segment out beyond
    // cwnd, so a small window still produces the three duplicates fast retransmit needs.
    const std::uint32_t limited_transmit =
        !tcb.cc.in_recovery() && tcb.dup_acks < 3 ? tcb.dup_acks * tcb.max_payload() : 0;
    const std::uint32_t limit =
        std::min<std::uint64_t>(tcb.snd_wnd, std::uint64_t{tcb.cc.cwnd()} + limited_transmit);
    std::uint32_t pending = 0;
    bool fin_waiting = false;
    bool sent_new_data = false;
    while (true) {
        const std::uint32_t sent = tcb.bytes_sent_unacked();
        const std::uint32_t queued = tcb.send_buffer.size();
        const std::uint32_t in_flight = tcb.flight_size();
        const std::uint32_t usable = limit > in_flight ? limit - in_flight : 0;
        pending = queued - sent;
        fin_waiting = tcb.fin_queued && pending == 0 && tcb.snd_nxt == tcb.fin_seq();
        if (pending == 0 && !fin_waiting) break;
        // Go-back-N after a timeout: skip what the peer SACKed (RFC 6675 5.1), and do not run
        // a retransmission into the next SACKed range.
        std::uint32_t sack_limit = UINT32_MAX;
        if (tcb.scoreboard && tcp::lt(tcb.snd_nxt, tcb.snd_max)) {
            bool skipped = false;
            for (const tcp::SeqRange& range : tcb.scoreboard->ranges()) {
                if (tcp::le(range.left, tcb.snd_nxt) && tcp::lt(tcb.snd_nxt, range.right)) {
                    tcb.snd_nxt = tcp::seq_min(range.right, tcb.snd_max);
                    skipped = true;
                    break;
                }
                if (tcp::gt(range.left, tcb.snd_nxt)) {
                    sack_limit = tcp::forward_distance(tcb.snd_nxt, range.left);
                    break;
                }
            }
            if (skipped) continue;
        }
        const std::uint32_t options = detail::data_option_space(tcb);
        const std::uint32_t room = tcb.snd_mss > options ? tcb.snd_mss - options : 1;
        if (pending > 0) {
            if (usable == 0) break;  // the persist timer takes over below if nothing is in flight
            // Nagle + sender SWS avoidance (RFC 9293 3.8.6.2.1, RFC 896): a full segment, or
            // everything queued (pushed: every user send is) when nothing is unacknowledged (or
            // nodelay), or half the peer's largest window since its SYN (tcp_common
            // sws_max_window). A retransmission after a timeout resends what was sent before
            // and is not held back.
            // Once our FIN is queued nothing more can join the last small segment, so Nagle
            // has no reason to hold it (the FIN goes with it).
            const bool retransmission = tcp::lt(tcb.snd_nxt, tcb.snd_max);
            const bool nodelay = tcb.nodelay || tcb.fin_queued;
            const std::uint32_t max_window =
                tcp::sws_max_window(tcb.max_snd_wnd_after_syn, tcb.snd_wnd);
            if (!retransmission &&
                !tcp::should_send_now(pending, room, usable, in_flight, nodelay, true, max_window))
                break;
        }
        const std::uint32_t length = std::min({pending, usable, room, sack_limit});
        const bool with_fin = tcb.fin_queued && sent + length == queued;
        const bool retransmission = tcp::lt(tcb.snd_nxt, tcb.snd_max);
        const std::uint32_t used =
            send_range(tcb, tcb.snd_nxt, length + (with_fin ? 1 : 0), now, out);
        if (used == 0) break;
        tcb.snd_nxt += used;
        sent_new_data = sent_new_data || !retransmission;
        if (retransmission) {
            ++tcb.retransmits;
        } else if (!tcb.rtt_seq) {
            tcb.rtt_seq = tcb.snd_nxt;  // time this segment (Karn: only new data, RFC 6298 3)
            tcb.rtt_start = now;
        }
        tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt);
        detail::arm_rexmt_if_idle(tcb, now);
        if (out.segments.back().has(fin)) break;
    }
    // RFC 8985 7.2: the probe timeout restarts after new data is sent. The ACK that let it out
    // armed the timer for the flight before it (often one segment, whose PTO includes the
    // peer's delayed-ACK allowance and so loses to the RTO): without this, a short flight
    // never gets its tail loss probe.
    // Not while segments are SACKed (RFC 8985 7.2: "unless ... segments have been SACKed"):
    // the reordering window (arm_reorder_window) then decides about the hole below them, and
    // replacing it by the probe timeout left the hole to the probe and the RTO (soak seed 383).
    if (sent_new_data && tcb.sack_ok && tcb.rto.has_sample() && tcb.rexmt_count == 0 &&
        !tcb.cc.in_recovery() && !tcb.reorder_pending &&
        !(tcb.scoreboard && !tcb.scoreboard->ranges().empty()))
        detail::arm_rexmt(tcb, now);
    // RFC 9293 3.8.6.1 / 3.8.6.2.1: data is waiting but nothing is in flight, so no ACK will
    // come to restart this decision: the persist timer probes a zero window or overrides SWS
    // avoidance. With data in flight the retransmission timer covers the connection.
    if (pending > 0 && tcb.flight_size() == 0) {
        detail::arm_persist(tcb, now);
    } else {
        tcb.timers.persist.reset();
    }
}

void drop_connection(Tcb& tcb, TcpError error, Outputs& out) {
    tcb.state = TcpState::closed;
    tcb.error = error;
    tcb.timers = Timers{};
    out.error = error;
    out.add_event(error == TcpError::none ? kTcpClosed : kTcpError);
}

std::optional<OutgoingSegment> rst_for_closed(const Segment& segment) {
    // RFC 9293 3.10.7.1: a RST is discarded; otherwise answer so the sender learns nobody is here.
    if (segment.rst()) return std::nullopt;
    OutgoingSegment reply;
    reply.source_port = segment.destination_port;
    reply.destination_port = segment.source_port;
    if (segment.ack.has_value()) {
        reply.seq = *segment.ack;  // <SEQ=SEG.ACK><CTL=RST>
        reply.flags = rst;
    } else {
        reply.seq = SeqNum(0);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        reply.ack = segment.seq + segment.seq_length();
        reply.flags = rst | ack;
    }
    return reply;
}

}  // namespace netloom::utcp
