// options.cpp — SYN option offer and negotiation: MSS (RFC 9293 3.7.1), window scale (RFC 7323
// 2.2: on only if both SYNs carry it), SACK-permitted (RFC 2018 2), timestamps (RFC 7323 3.2).
#include <algorithm>

#include "core/rules.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

wire::TcpOptions syn_options(const Tcb& tcb, Time now) {
    // On a SYN we offer everything the config enables; a SYN-ACK carries only what the peer's
    // SYN offered (already recorded by negotiate_options), RFC 7323 2.2/3.2, RFC 2018 2.
    const Config& cfg = *tcb.config;
    const bool syn_ack = tcb.state == TcpState::syn_received;
    wire::TcpOptions options;
    options.mss = cfg.mss;
    if (cfg.window_scaling && (!syn_ack || tcb.wscale_ok)) options.window_scale = tcb.rcv_wscale;
    if (cfg.sack && (!syn_ack || tcb.sack_ok)) options.sack_permitted = true;
    if (cfg.timestamps && (!syn_ack || tcb.ts_ok)) {
        // RFC 7323 3.2: TSecr of a SYN is 0; a SYN-ACK echoes the SYN's TSval.
        options.timestamps = wire::TcpTimestamps{ts_clock(tcb, now), syn_ack ? tcb.ts_recent : 0};
    }
    return options;
}

void negotiate_options(Tcb& tcb, const Segment& peer_syn) {
    const Config& cfg = *tcb.config;
    const auto& offer = peer_syn.options;
    // RFC 9293 3.7.1: without the option the peer accepts 536 bytes. Never above what we
    // advertise (symmetry keeps both directions' segments within the path we know).
    const std::uint16_t peer_mss = offer.mss.value_or(536);
    tcb.snd_mss = std::max<std::uint16_t>(64, std::min(peer_mss, cfg.mss));
    // RFC 7323 2.2: scaling is on only if both SYNs carried the option. A SYN-ACK may carry it
    // only if our SYN did, so for an answer the offer alone decides.
    tcb.wscale_ok = cfg.window_scaling && offer.window_scale.has_value();
    if (tcb.wscale_ok) {
        tcb.snd_wscale = tcp::clamp_window_scale(*offer.window_scale);  // RFC 7323 2.3
    } else {
        tcb.snd_wscale = 0;
        tcb.rcv_wscale = 0;
    }
    tcb.sack_ok = cfg.sack && offer.sack_permitted;
    tcb.ts_ok = cfg.timestamps && offer.timestamps.has_value();
    if (tcb.ts_ok) tcb.ts_recent = offer.timestamps->value;  // RFC 7323 4.3 step 3 for a SYN
    if (tcb.scoreboard) tcb.scoreboard->set_mss(tcb.max_payload());
    // Congestion windows count in segments of the payload we will actually send (RFC 5681 2:
    // SMSS excludes options).
    tcb.cc = make_congestion_control(cfg, tcb.max_payload());
}

}  // namespace netloom::utcp
