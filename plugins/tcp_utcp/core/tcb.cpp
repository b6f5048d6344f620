// tcb.cpp — TCB construction and derived quantities.
#include "core/tcb.hpp"

#include <algorithm>

namespace netloom::utcp {

tcp::CongestionControl make_congestion_control(const Config& cfg, std::uint32_t mss) {
    return *tcp::CongestionControl::create(cfg.cubic ? "cubic" : "newreno", mss);
}

Tcb::Tcb(const Config& cfg, const tcp::FourTuple& tuple_)
    : config(cfg),
      tuple(tuple_),
      rto(cfg.rto),
      cc(make_congestion_control(cfg, cfg.mss)),
      scoreboard(SeqNum(0), cfg.mss),
      challenge_tokens(cfg.challenge_ack_limit) {}

std::uint32_t Tcb::bytes_sent_unacked() const noexcept {
    std::uint32_t sent = tcp::forward_distance(snd_una, snd_nxt);
    if (state == TcpState::syn_sent || state == TcpState::syn_received) return 0;
    if (fin_queued && tcp::gt(snd_nxt, fin_seq())) --sent;  // the FIN is not a buffer byte
    return std::min<std::uint32_t>(sent, static_cast<std::uint32_t>(send_queue.size()));
}

SeqNum Tcb::fin_seq() const noexcept {
    return snd_una + static_cast<std::uint32_t>(send_queue.size());
}

std::uint32_t Tcb::ooo_bytes() const noexcept {
    std::uint32_t total = 0;
    for (const auto& segment : ooo) total += static_cast<std::uint32_t>(segment.data.size());
    return total;
}

std::uint32_t Tcb::rcv_free() const noexcept {
    const std::uint64_t used = recv_queue.size() + ooo_bytes();
    return used >= config.rcvbuf ? 0 : static_cast<std::uint32_t>(config.rcvbuf - used);
}

std::uint32_t Tcb::max_payload() const noexcept {
    const std::uint32_t overhead = ts_ok ? 12 : 0;  // NOP NOP TS (RFC 7323 Appendix A)
    return snd_mss > overhead + 1 ? snd_mss - overhead : 1;
}

bool Tcb::synchronized() const noexcept {
    return state != TcpState::closed && state != TcpState::listen && state != TcpState::syn_sent &&
           state != TcpState::syn_received;
}

TcpInfo Tcb::info() const {
    TcpInfo out;
    out.state = state;
    out.mss = max_payload();
    out.cwnd = cc.cwnd();
    out.ssthresh = cc.ssthresh();
    out.srtt_us = static_cast<std::uint32_t>(rto.srtt().count() / 1000);
    out.rttvar_us = static_cast<std::uint32_t>(rto.rttvar().count() / 1000);
    out.rto_us = static_cast<std::uint32_t>(rto.rto().count() / 1000);
    out.snd_wnd = snd_wnd;
    out.rcv_wnd = rcv_wnd();
    out.bytes_in_flight = flight_size();
    out.snd_wscale = snd_wscale;
    out.rcv_wscale = rcv_wscale;
    out.sack_enabled = sack_ok;
    out.timestamps_enabled = ts_ok;
    out.segments_sent = segments_sent;
    out.segments_received = segments_received;
    out.retransmits = retransmits;
    out.rto_count = rto_count;
    out.fast_retransmits = fast_retransmits;
    return out;
}

std::uint32_t ts_clock(const Tcb& tcb, Time now) noexcept {
    return static_cast<std::uint32_t>(now.count() / 1'000'000) + tcb.config.ts_offset;
}

}  // namespace netloom::utcp
