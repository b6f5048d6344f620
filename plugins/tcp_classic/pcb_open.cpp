// pcb_open.cpp — creating a connection: active open, passive open from a listener's SYN, open
// from a SYN cookie, and option negotiation (RFC 9293 3.7.1, RFC 7323 1.3/2, RFC 2018 2).
#include <algorithm>

#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;

namespace {

tcp::CongestionControl make_cc(bool cubic, std::uint32_t mss) {
    return *tcp::CongestionControl::create(cubic ? "cubic" : "newreno", mss);
}

}  // namespace

Pcb::Pcb(PcbHost& host, const tcp::FourTuple& tuple, Time now)
    : host_(host),
      tuple_(tuple),
      opened_at_(now),
      snd_(host.config().rto, make_cc(host.config().cubic, host.config().mss)),
      tx_(host.config().sndbuf),
      rx_(host.config().rcvbuf) {
    nodelay_ = host.config().nodelay;
    // RFC 6528: the ISN is a keyed hash of the 4-tuple plus a 4 us clock.
    snd_.iss = tcp::generate_isn(tuple, host.config().isn_key, now);
    snd_.una = snd_.nxt = snd_.max = snd_.iss;
    ts_offset_ = ts_offset_for(tuple, host.config().ts_key);
    last_received_ = now;
}

std::uint32_t Pcb::ts_offset_for(const tcp::FourTuple& tuple, const tcp::SipKey& key) noexcept {
    // RFC 7323 5.4: a per-connection timestamp offset, so TSval reveals no host-wide clock; its
    // own key, so TSval and ISS offsets are unrelated.
    return tcp::connection_hash(tuple, key);
}

void Pcb::reuse_sequence_space(const tcp::TimeWaitRecord& old) noexcept {
    snd_.iss = tcp::reuse_iss(snd_.iss, old.snd_nxt);
    snd_.una = snd_.nxt = snd_.max = snd_.iss;
}

Pcb::~Pcb() = default;

void Pcb::cancel_timers() noexcept {
    Scheduler& s = host_.scheduler();
    retransmit_timer_.cancel(s);
    delayed_ack_timer_.cancel(s);
    persist_timer_.cancel(s);
    keepalive_timer_.cancel(s);
    time_wait_timer_.cancel(s);
}

void Pcb::negotiate(const wire::TcpOptions& options, bool) {
    const EngineConfig& config = host_.config();
    // RFC 9293 3.7.1: without the option the peer can take 536 bytes.
    snd_.mss = std::min<std::uint16_t>({options.mss.value_or(536), config.mss, path_mss_});
    if (snd_.mss < 64) snd_.mss = 64;
    // RFC 7323 2.2: scaling only when both sides sent the option.
    ws_ok_ = config.window_scaling && options.window_scale.has_value();
    snd_.scale = ws_ok_ ? tcp::clamp_window_scale(*options.window_scale) : 0;
    rcv_.scale = ws_ok_ ? tcp::choose_window_scale(config.rcvbuf) : 0;
    sack_ok_ = config.sack && options.sack_permitted;
    ts_ok_ = config.timestamps && options.timestamps.has_value();
    if (ts_ok_) {
        ts_recent_ = options.timestamps->value;
        ts_recent_time_ = now();
    }
    snd_.cc = make_cc(config.cubic, payload_room());
}

void Pcb::open_active() {
    state_ = TcpState::syn_sent;
    send_syn(false);
    arm_retransmit();
}

void Pcb::open_passive(const Segment& syn, Listener* owner) {
    passive_ = true;
    listener = owner;
    rcv_.irs = syn.seq;
    rcv_.nxt = syn.seq + 1;
    negotiate(syn.options, false);
    // RFC 7323 2.2: the window of a SYN is never scaled.
    snd_.wnd = syn.window;
    snd_.max_wnd = snd_.wnd;
    snd_.wl1 = syn.seq;
    snd_.wl2 = snd_.iss;
    state_ = TcpState::syn_received;
    send_syn(true);
    arm_retransmit();
}

void Pcb::open_from_cookie(const Segment& ack, std::uint16_t mss, Listener* owner) {
    passive_ = true;
    listener = owner;
    // The cookie was our ISN: the ACK acknowledges it (RFC 4987 3.6).
    snd_.iss = *ack.ack - 1;
    snd_.una = snd_.nxt = snd_.max = *ack.ack;
    rcv_.irs = ack.seq - 1;
    rcv_.nxt = ack.seq;
    rcv_.adv = rcv_.nxt + std::min<std::uint32_t>(host_.config().rcvbuf, 0xffff);
    wire::TcpOptions none;
    none.mss = mss;
    negotiate(none, false);
    snd_.wnd = ack.window;  // unscaled: scaling did not survive the cookie
    snd_.max_wnd = snd_.wnd;
    snd_.max_wnd_after_syn = snd_.wnd;  // an ACK, not a SYN
    snd_.wl1 = ack.seq;
    snd_.wl2 = *ack.ack;
    enter_established();
}

void Pcb::send_syn(bool with_ack) {
    const EngineConfig& config = host_.config();
    wire::TcpRepr repr;
    repr.source_port = tuple_.local_port;
    repr.destination_port = tuple_.remote_port;
    repr.sequence_number = snd_.iss.value();
    repr.flags = syn;
    if (with_ack) {
        repr.flags |= ack;
        repr.acknowledgment_number = rcv_.nxt.value();
        last_ack_sent_ = rcv_.nxt;
    }
    repr.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(config.rcvbuf, 0xffff));
    if (with_ack) rcv_.adv = rcv_.nxt + repr.window;
    repr.options.mss = config.mss;
    // A SYN offers everything configured; a SYN-ACK only what the peer offered (RFC 7323 1.3).
    if (with_ack ? ws_ok_ : config.window_scaling)
        repr.options.window_scale = tcp::choose_window_scale(config.rcvbuf);
    repr.options.sack_permitted = with_ack ? sack_ok_ : config.sack;
    if (with_ack ? ts_ok_ : config.timestamps)
        repr.options.timestamps = wire::TcpTimestamps{stamp_tsval(), with_ack ? ts_recent_ : 0};
    // Karn (RFC 6298 3): only the first transmission of ISS is timed. Every later one (a
    // retransmission, a repeated SYN-ACK, the SYN-ACK of a simultaneous open) makes the
    // ACK ambiguous, so it cancels the measurement.
    if (syn_transmissions_++ == 0) {
        snd_.timed_seq = snd_.iss;
        snd_.timed_at = now();
    } else {
        snd_.timed_seq.reset();
    }
    snd_.nxt = snd_.iss + 1;
    snd_.max = tcp::seq_max(snd_.max, snd_.nxt);
    build_and_send(repr, 0, 0, false);
}

}  // namespace netloom::classic
