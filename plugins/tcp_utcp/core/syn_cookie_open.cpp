// syn_cookie_open.cpp — stateless SYN-ACK and open-from-cookie (RFC 4987 3.6).
#include "core/syn_cookie_open.hpp"

#include <algorithm>

namespace netloom::utcp {

namespace {

/// The listener's config with the options a cookie cannot carry turned off, so the SYN-ACK
/// does not offer them and the connection does not use them.
Config cookie_config(const Config& listener_config) {
    Config config = listener_config;
    config.window_scaling = false;
    config.sack = false;
    config.timestamps = false;
    return config;
}

}  // namespace

OutgoingSegment syn_cookie_reply(const Listener& listener, const tcp::FourTuple& tuple,
                                 const Segment& syn, SeqNum cookie_iss, Time now) {
    Tcb tcb(cookie_config(listener.shared ? *listener.shared : listener.config), tuple);
    tcb.iss = cookie_iss;
    tcb.snd_una = tcb.snd_nxt = tcb.snd_max = cookie_iss;
    tcb.irs = syn.seq;
    tcb.rcv_nxt = syn.seq + 1;
    tcb.rcv_adv = tcb.rcv_nxt;
    tcb.state = TcpState::syn_received;
    Outputs out;
    send_syn(tcb, now, out);  // SYN-ACK with our MSS only
    return std::move(out.segments.front());
}

Tcb open_from_cookie(const Listener& listener, const tcp::FourTuple& tuple, const Segment& ack,
                     std::uint16_t peer_mss, Time now) {
    Tcb tcb(cookie_config(listener.shared ? *listener.shared : listener.config), tuple);
    tcb.passive = true;
    tcb.iss = *ack.ack - 1;  // the cookie
    tcb.snd_una = tcb.snd_nxt = tcb.snd_max = *ack.ack;
    tcb.irs = ack.seq - 1;
    tcb.rcv_nxt = ack.seq;
    // The SYN-ACK advertised at most this much (unscaled: no window scaling from a cookie).
    tcb.rcv_adv = tcb.rcv_nxt + std::min<std::uint32_t>(tcb.config->rcvbuf, 0xffff);
    tcb.snd_mss = std::max<std::uint16_t>(64, std::min(peer_mss, tcb.config->mss));
    tcb.cc = make_congestion_control(*tcb.config, tcb.max_payload());
    tcb.snd_wnd = ack.window;
    tcb.max_snd_wnd = tcb.snd_wnd;
    tcb.max_snd_wnd_after_syn = tcb.snd_wnd;  // an ACK, not a SYN
    tcb.snd_wl1 = ack.seq;
    tcb.snd_wl2 = *ack.ack;
    tcb.last_ack_sent = tcb.rcv_nxt;
    tcb.state = TcpState::established;
    tcb.rtt_start = now;
    return tcb;
}

}  // namespace netloom::utcp
