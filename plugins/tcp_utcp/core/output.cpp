// output.cpp — building segments and deciding what to send: ACKs, challenge ACKs, SYN/SYN-ACK,
// data within min(SND.WND, cwnd) (RFC 9293 3.8.6, RFC 5681 3.1), our FIN, and the RST for a
// segment to a closed port.
#include <algorithm>

#include "core/rules.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

/// The window field we put on a segment, moving RCV.ADV right but never left (RFC 9293
/// 3.8.6.2.2). SYN segments carry it unscaled (RFC 7323 2.2).
std::uint16_t advertise_window(Tcb& tcb, bool syn) {
    const std::uint32_t window = tcp::receive_window_to_advertise(
        tcb.rcv_free(), tcb.rcv_wnd(), tcb.config.rcvbuf, tcb.config.mss);
    if (syn) {
        const auto field = static_cast<std::uint16_t>(std::min<std::uint32_t>(window, 0xffff));
        tcb.rcv_adv = tcp::seq_max(tcb.rcv_adv, tcb.rcv_nxt + field);
        return field;
    }
    const std::uint32_t offered = std::max(window, tcb.rcv_wnd());
    const std::uint16_t field = tcp::encode_window_round_up(offered, tcb.rcv_wscale);
    const std::uint32_t scaled = tcp::decode_window(field, tcb.rcv_wscale);
    tcb.rcv_adv = tcp::seq_max(tcb.rcv_adv, tcb.rcv_nxt + scaled);
    return field;
}

void arm_rexmt_if_idle(Tcb& tcb, Time now) {
    if (!tcb.timers.rexmt) tcb.timers.rexmt = now + tcb.rto.rto();  // RFC 6298 5.1
}

}  // namespace

Segment make_segment(Tcb& tcb, SeqNum seq, std::uint8_t flags, Time now) {
    Segment segment;
    segment.source_port = tcb.tuple.local_port;
    segment.destination_port = tcb.tuple.remote_port;
    segment.seq = seq;
    segment.flags = flags;
    if (flags & ack) {
        segment.ack = tcb.rcv_nxt;
        tcb.last_ack_sent = tcb.rcv_nxt;
    }
    if (!(flags & rst)) {
        segment.window = advertise_window(tcb, (flags & syn) != 0);
        if (tcb.ts_ok && !(flags & syn))
            segment.options.timestamps = wire::TcpTimestamps{ts_clock(tcb, now), tcb.ts_recent};
        if (tcb.sack_ok && (flags & ack) && !(flags & syn)) tcb.sack_rx.fill(segment.options);
    }
    ++tcb.segments_sent;
    return segment;
}

void send_ack(Tcb& tcb, Time now, Outputs& out) {
    out.segments.push_back(make_segment(tcb, tcb.snd_nxt, ack, now));
}

void send_challenge_ack(Tcb& tcb, Time now, Outputs& out) {
    // RFC 5961 7: limit challenge ACKs per unit of time; the budget refills once a second.
    if (now - tcb.challenge_refill >= std::chrono::seconds(1)) {
        tcb.challenge_refill = now;
        tcb.challenge_tokens = tcb.config.challenge_ack_limit;
    }
    if (tcb.challenge_tokens == 0) return;
    --tcb.challenge_tokens;
    send_ack(tcb, now, out);
}

void send_syn(Tcb& tcb, Time now, Outputs& out) {
    const bool syn_ack = tcb.state == TcpState::syn_received;
    Segment segment = make_segment(tcb, tcb.iss, syn_ack ? (syn | ack) : syn, now);
    segment.options = syn_options(tcb, now);
    out.segments.push_back(std::move(segment));
    tcb.snd_nxt = tcb.iss + 1;
    tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt);
    arm_rexmt_if_idle(tcb, now);
}

void output_tcp(Tcb& tcb, Time now, Outputs& out) {
    if (!tcb.synchronized() || tcb.state == TcpState::time_wait) return;
    if (tcb.fin_acked) return;
    // RFC 5681 3.1 / RFC 9293 3.8.6: usable = min(SND.WND, cwnd) - in flight.
    const std::uint32_t limit = std::min(tcb.snd_wnd, tcb.cc.cwnd());
    while (true) {
        const std::uint32_t sent = tcb.bytes_sent_unacked();
        const auto queued = static_cast<std::uint32_t>(tcb.send_queue.size());
        const std::uint32_t in_flight = tcb.flight_size();
        const std::uint32_t usable = limit > in_flight ? limit - in_flight : 0;
        const std::uint32_t pending = queued - sent;
        const bool fin_next = tcb.fin_queued && pending == 0 && tcb.snd_nxt == tcb.fin_seq();
        if (pending == 0 && !fin_next) break;
        if (pending > 0 && usable == 0) break;  // persist timer: not driven yet (README)
        // Sender SWS avoidance (RFC 9293 3.8.6.2.1); Nagle is off until the shell drives it.
        // With nothing in flight no ACK will come to reopen the decision (and there is no
        // override timer yet), so then whatever fits goes.
        if (pending > 0 && in_flight > 0 &&
            !tcp::should_send_now(pending, tcb.max_payload(), usable, in_flight, true, true,
                                  tcb.max_snd_wnd))
            break;
        const std::uint32_t length = std::min({pending, usable, tcb.max_payload()});
        std::uint8_t flags = ack;
        const bool carries_fin = tcb.fin_queued && sent + length == queued;
        if (carries_fin) flags |= fin;
        if (length > 0 && sent + length == queued) flags |= psh;
        const bool retransmission = tcp::lt(tcb.snd_nxt, tcb.snd_max);
        Segment segment = make_segment(tcb, tcb.snd_nxt, flags, now);
        const auto begin = tcb.send_queue.begin() + sent;
        segment.payload.assign(begin, begin + length);
        tcb.snd_nxt += segment.seq_len();
        if (retransmission) {
            ++tcb.retransmits;
        } else if (!tcb.rtt_seq && !tcb.ts_ok && length > 0) {
            tcb.rtt_seq = tcb.snd_nxt;  // time this segment (Karn: only new data, RFC 6298 3)
            tcb.rtt_start = now;
        }
        tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt);
        out.segments.push_back(std::move(segment));
        arm_rexmt_if_idle(tcb, now);
        if (carries_fin) break;
    }
}

void drop_connection(Tcb& tcb, TcpError error, Outputs& out) {
    tcb.state = TcpState::closed;
    tcb.error = error;
    tcb.timers = Timers{};
    out.error = error;
    out.add_event(error == TcpError::none ? kTcpClosed : kTcpError);
}

std::optional<Segment> rst_for_closed(const Segment& segment) {
    // RFC 9293 3.10.7.1: a RST is discarded; otherwise answer so the sender learns nobody is here.
    if (segment.has(rst)) return std::nullopt;
    Segment reply;
    reply.source_port = segment.destination_port;
    reply.destination_port = segment.source_port;
    if (segment.has(ack)) {
        reply.seq = segment.ack;  // <SEQ=SEG.ACK><CTL=RST>
        reply.flags = rst;
    } else {
        reply.seq = SeqNum(0);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        reply.ack = segment.seq + segment.seq_len();
        reply.flags = rst | ack;
    }
    return reply;
}

}  // namespace netloom::utcp
