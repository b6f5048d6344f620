// deliver_in.cpp — opening a connection: connect_1 (active OPEN), deliver_in_1 (LISTEN),
// deliver_in_2 (SYN-SENT, including simultaneous open), the per-state dispatch, and what both
// sides do when the handshake completes.
#include "core/detail.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

void init_send_space(Tcb& tcb, Time now) {
    // RFC 9293 3.4.1 / RFC 6528: ISS from the keyed hash of the 4-tuple plus the 4 us clock.
    tcb.iss = tcp::generate_isn(tcb.tuple, tcb.config->isn_key, now);
    tcb.snd_una = tcb.iss;
    tcb.snd_nxt = tcb.iss;
    tcb.snd_max = tcb.iss;
    tcb.rcv_wscale = tcb.config->window_scaling ? tcp::choose_window_scale(tcb.config->rcvbuf) : 0;
    tcb.timers.conn_establish = now + tcb.config->connect_timeout;
    tcb.rtt_start = now;  // handshake RTT (RFC 6298 3: only if the SYN is not retransmitted)
}

void init_receive_space(Tcb& tcb, const Segment& syn_segment, Time now) {
    tcb.irs = syn_segment.seq;
    tcb.rcv_nxt = syn_segment.seq + 1;
    tcb.rcv_adv = tcb.rcv_nxt;
    tcb.ts_recent_time = now;
}

/// The peer's window from a segment that is not a SYN (RFC 7323 2.2: SYN windows are unscaled).
std::uint32_t peer_window(const Tcb& tcb, const Segment& segment) {
    return segment.syn() ? segment.window : tcp::decode_window(segment.window, tcb.snd_wscale);
}

}  // namespace

namespace detail {

void on_established(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    tcb.timers.rexmt.reset();
    tcb.timers.conn_establish.reset();
    tcb.rexmt_count = 0;
    // Handshake RTT. A SYN (or SYN-ACK) sent once is timed by its send time (Karn's rule, RFC
    // 6298 3; exact, where timestamps tick in ms). After a retransmission only a timestamp echo
    // can name the transmission it answers (RFC 7323 4); it cannot be older than our first SYN.
    const Time elapsed = now - tcb.rtt_start;
    if (!tcb.syn_retransmitted) {
        tcb.rto.on_rtt_sample(elapsed);
    } else if (tcb.ts_ok && segment.options.timestamps) {
        if (auto rtt = rtt_from_echo(tcb, segment, now, elapsed)) tcb.rto.on_rtt_sample(*rtt);
    }
    // RFC 6298 5.7: after a SYN timeout, data transmission starts with RTO = 3 s unless a
    // sample was taken meanwhile (set_initial_rto does nothing once there is one).
    if (tcb.syn_retransmitted) tcb.rto.set_initial_rto(std::chrono::seconds(3));
    tcb.rto.reset_backoff();
    arm_keepalive(tcb, now);
    out.add_event(kTcpConnected | kTcpWritable);
}

}  // namespace detail

Tcb connect_1(std::shared_ptr<const Config> config, const tcp::FourTuple& tuple, Time now,
              Outputs& out, const tcp::TimeWaitRecord* reusing) {
    Tcb tcb(std::move(config), tuple);
    init_send_space(tcb, now);
    if (reusing) {  // RFC 6191 / RFC 9293 3.10.7.4: no old duplicate may land in the new space
        tcb.iss = tcp::reuse_iss(tcb.iss, reusing->snd_nxt);
        tcb.snd_una = tcb.snd_nxt = tcb.snd_max = tcb.iss;
    }
    tcb.state = TcpState::syn_sent;
    send_syn(tcb, now, out);
    return tcb;
}

Tcb connect_1(const Config& config, const tcp::FourTuple& tuple, Time now, Outputs& out) {
    return connect_1(std::make_shared<const Config>(config), tuple, now, out);
}

std::optional<Tcb> deliver_in_1(const Listener& listener, const tcp::FourTuple& tuple,
                                const Segment& segment, Time now, Outputs& out) {
    // RFC 9293 3.10.7.2, in order: RST ignored; ACK -> RST; SYN -> new connection.
    if (segment.rst()) return std::nullopt;
    if (segment.ack.has_value()) {  // deliver_in_1b: nothing acceptable can be acknowledged here
        if (auto reply = rst_for_closed(segment)) out.segments.push_back(std::move(*reply));
        return std::nullopt;
    }
    // A SYN here is never also a FIN: the front half drops SYN+FIN (RFC 9293 3.1 gives it no
    // meaning) and tcp::Segment carries one control.
    if (!segment.syn()) return std::nullopt;
    Tcb tcb = listener.shared ? Tcb(listener.shared, tuple) : Tcb(listener.config, tuple);
    tcb.passive = true;
    init_send_space(tcb, now);
    init_receive_space(tcb, segment, now);
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
    deliver_in(tcb, segment, now, out);
    return out;
}

void deliver_in(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    ++tcb.segments_received;
    switch (tcb.state) {
        case TcpState::closed:
        case TcpState::listen:
            if (auto reply = rst_for_closed(segment)) out.segments.push_back(std::move(*reply));
            break;
        case TcpState::syn_sent: deliver_in_2(tcb, segment, now, out); break;
        default: deliver_in_3(tcb, segment, now, out); break;
    }
}

void deliver_in_2(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    // RFC 9293 3.10.7.3 "SYN-SENT STATE". First the ACK bit.
    const bool has_ack = segment.ack.has_value();
    if (has_ack) {
        // deliver_in_2a: an ACK of something we never sent -> RST (unless itself a RST).
        if (tcp::le(*segment.ack, tcb.iss) || tcp::gt(*segment.ack, tcb.snd_nxt)) {
            if (!segment.rst()) {
                OutgoingSegment reply = make_segment(tcb, *segment.ack, rst, now);
                out.segments.push_back(std::move(reply));
            }
            return;
        }
    }
    if (segment.rst()) {
        // Only an acceptable ACK makes the RST believable (RFC 5961 3.2 keeps this rule).
        if (has_ack) drop_connection(tcb, TcpError::refused, out);
        return;
    }
    if (!segment.syn()) return;
    init_receive_space(tcb, segment, now);
    negotiate_options(tcb, segment);
    if (has_ack) {
        // deliver_in_2: our SYN is acknowledged -> ESTABLISHED, ACK the SYN-ACK.
        tcb.snd_una = *segment.ack;
        tcb.snd_wnd = peer_window(tcb, segment);
        tcb.max_snd_wnd = tcb.snd_wnd;
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = *segment.ack;
        tcb.state = TcpState::established;
        detail::on_established(tcb, segment, now, out);
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
