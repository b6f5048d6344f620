// deliver_in.cpp — opening a connection: connect_1 (active OPEN), deliver_in_1 (LISTEN),
// deliver_in_2 (SYN-SENT, including simultaneous open) and the per-state dispatch.
#include "core/rules.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

void init_send_space(Tcb& tcb, Time now) {
    // RFC 9293 3.4.1 / RFC 6528: ISS from the keyed hash of the 4-tuple plus the 4 us clock.
    tcb.iss = tcp::generate_isn(tcb.tuple, tcb.config.isn_key, now);
    tcb.snd_una = tcb.iss;
    tcb.snd_nxt = tcb.iss;
    tcb.snd_max = tcb.iss;
    tcb.rcv_wscale = tcb.config.window_scaling ? tcp::choose_window_scale(tcb.config.rcvbuf) : 0;
    tcb.timers.conn_establish = now + tcb.config.connect_timeout;
    tcb.rtt_start = now;  // handshake RTT (RFC 6298 3: only if the SYN is not retransmitted)
}

void init_receive_space(Tcb& tcb, const Segment& syn_segment) {
    tcb.irs = syn_segment.seq;
    tcb.rcv_nxt = syn_segment.seq + 1;
    tcb.rcv_adv = tcb.rcv_nxt;
}

/// The peer's window from a segment that is not a SYN (RFC 7323 2.2: SYN windows are unscaled).
std::uint32_t peer_window(const Tcb& tcb, const Segment& segment) {
    return segment.has(syn) ? segment.window : tcp::decode_window(segment.window, tcb.snd_wscale);
}

}  // namespace

Tcb connect_1(const Config& config, const tcp::FourTuple& tuple, Time now, Outputs& out) {
    Tcb tcb(config, tuple);
    init_send_space(tcb, now);
    tcb.state = TcpState::syn_sent;
    send_syn(tcb, now, out);
    return tcb;
}

std::optional<Tcb> deliver_in_1(const Listener& listener, const tcp::FourTuple& tuple,
                                const Segment& segment, Time now, Outputs& out) {
    // RFC 9293 3.10.7.2, in order: RST ignored; ACK -> RST; SYN -> new connection.
    if (segment.has(rst)) return std::nullopt;
    if (segment.has(ack)) {  // deliver_in_1b: nothing acceptable can be acknowledged here
        if (auto reply = rst_for_closed(segment)) out.segments.push_back(std::move(*reply));
        return std::nullopt;
    }
    if (!segment.has(syn)) return std::nullopt;
    // SYN+FIN is nonsense (RFC 9293 3.1 gives it no meaning): drop rather than guess.
    if (segment.has(fin)) return std::nullopt;
    Tcb tcb(listener.config, tuple);
    tcb.passive = true;
    init_send_space(tcb, now);
    init_receive_space(tcb, segment);
    negotiate_options(tcb, segment);
    tcb.snd_wnd = segment.window;  // unscaled on a SYN
    tcb.max_snd_wnd = tcb.snd_wnd;
    tcb.snd_wl1 = segment.seq;
    tcb.state = TcpState::syn_received;
    send_syn(tcb, now, out);  // payload on a SYN is not queued (no TFO): the peer resends it
    return tcb;
}

Outputs deliver_in(Tcb& tcb, const Segment& segment, Time now) {
    Outputs out;
    ++tcb.segments_received;
    switch (tcb.state) {
        case TcpState::closed:
        case TcpState::listen:
            if (auto reply = rst_for_closed(segment)) out.segments.push_back(std::move(*reply));
            break;
        case TcpState::syn_sent: deliver_in_2(tcb, segment, now, out); break;
        default: deliver_in_3(tcb, segment, now, out); break;
    }
    return out;
}

void deliver_in_2(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    // RFC 9293 3.10.7.3 "SYN-SENT STATE". First the ACK bit.
    const bool has_ack = segment.has(ack);
    if (has_ack) {
        // deliver_in_2a: an ACK of something we never sent -> RST (unless itself a RST).
        if (tcp::le(segment.ack, tcb.iss) || tcp::gt(segment.ack, tcb.snd_nxt)) {
            if (!segment.has(rst)) {
                Segment reply = make_segment(tcb, segment.ack, rst, now);
                out.segments.push_back(std::move(reply));
            }
            return;
        }
    }
    if (segment.has(rst)) {
        // Only an acceptable ACK makes the RST believable (RFC 5961 3.2 keeps this rule).
        if (has_ack) drop_connection(tcb, TcpError::refused, out);
        return;
    }
    if (!segment.has(syn)) return;
    if (segment.has(fin)) return;  // SYN+FIN: drop (see deliver_in_1)
    init_receive_space(tcb, segment);
    negotiate_options(tcb, segment);
    if (has_ack) {
        // deliver_in_2: our SYN is acknowledged -> ESTABLISHED, ACK the SYN-ACK.
        tcb.snd_una = segment.ack;
        tcb.snd_wnd = peer_window(tcb, segment);
        tcb.max_snd_wnd = tcb.snd_wnd;
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = segment.ack;
        tcb.state = TcpState::established;
        tcb.timers.rexmt.reset();
        tcb.timers.conn_establish.reset();
        tcb.rexmt_count = 0;
        // RTT of the handshake (Karn: only if the SYN was not retransmitted, RFC 6298 3).
        if (tcb.ts_ok && segment.options.timestamps && segment.options.timestamps->echo != 0) {
            const std::uint32_t ms = ts_clock(tcb, now) - segment.options.timestamps->echo;
            tcb.rto.on_rtt_sample(std::chrono::milliseconds(ms));
        } else if (tcb.retransmits == 0 && tcb.rto_count == 0) {
            tcb.rto.on_rtt_sample(now - tcb.rtt_start);
        }
        tcb.rto.reset_backoff();
        tcb.scoreboard = tcp::SackScoreboard(tcb.snd_una, tcb.max_payload());
        out.add_event(kTcpConnected | kTcpWritable);
        send_ack(tcb, now, out);
        output_tcp(tcb, now, out);
        return;
    }
    // Simultaneous open (RFC 9293 3.5 figure 7): SYN without ACK -> SYN-RECEIVED, send SYN-ACK
    // with our original ISS.
    tcb.snd_wnd = segment.window;
    tcb.max_snd_wnd = tcb.snd_wnd;
    tcb.snd_wl1 = segment.seq;
    tcb.state = TcpState::syn_received;
    tcb.timers.rexmt.reset();
    send_syn(tcb, now, out);
}

}  // namespace netloom::utcp
