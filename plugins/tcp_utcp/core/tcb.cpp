// tcb.cpp — TCB construction, derived quantities, TcpInfo and the memory footprint.
#include "core/tcb.hpp"

#include <algorithm>

#include "netloom/tcp_common/receiver_ack.hpp"

namespace netloom::utcp {

tcp::CongestionControl make_congestion_control(const Config& cfg, std::uint32_t mss) {
    return *tcp::CongestionControl::create(cfg.cubic ? "cubic" : "newreno", mss);
}

Tcb::Tcb(std::shared_ptr<const Config> cfg, const tcp::FourTuple& tuple_)
    : config(std::move(cfg)),
      tuple(tuple_),
      nodelay(config->nodelay),
      keepalive_on(config->keepalive),
      rcv_mss(tcp::kInitialFullSized),
      rto(config->rto),
      cc(make_congestion_control(*config, config->mss)),
      send_buffer(config->sndbuf),
      recv_buffer(config->rcvbuf) {
    ts_offset = ts_offset_for(*config, tuple);
}

std::uint32_t ts_offset_for(const Config& config, const tcp::FourTuple& tuple) noexcept {
    std::uint32_t offset = config.ts_offset;
    // Its own key, so TSval and ISS offsets are unrelated.
    if (config.ts_offset_per_connection) offset += tcp::connection_hash(tuple, config.ts_key);
    return offset;
}

Tcb::Tcb(const Config& cfg, const tcp::FourTuple& tuple_)
    : Tcb(std::make_shared<const Config>(cfg), tuple_) {}

std::uint32_t Tcb::bytes_sent_unacked() const noexcept {
    std::uint32_t sent = tcp::forward_distance(snd_una, snd_nxt);
    if (state == TcpState::syn_sent || state == TcpState::syn_received) return 0;
    if (fin_queued && tcp::gt(snd_nxt, fin_seq())) --sent;  // the FIN is not a buffer byte
    return std::min<std::uint32_t>(sent, send_buffer.size());
}

SeqNum Tcb::fin_seq() const noexcept {
    return snd_una + send_buffer.size();
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
    out.bytes_sent = bytes_sent;
    out.bytes_acked = bytes_acked;
    out.bytes_received = bytes_received;
    out.segments_sent = segments_sent;
    out.segments_received = segments_received;
    out.retransmits = retransmits;
    out.fast_retransmits = fast_retransmits;
    out.sack_recoveries = sack_recoveries;
    out.rto_count = rto_count;
    out.dup_acks_received = dup_acks_received;
    return out;
}

std::uint32_t ts_clock(const Tcb& tcb, Time now) noexcept {
    return static_cast<std::uint32_t>(now.count() / 1'000'000) + tcb.ts_offset;
}

std::size_t memory_footprint(const Tcb& tcb) noexcept {
    std::size_t total = sizeof(Tcb) + tcb.send_buffer.heap_bytes() + tcb.recv_buffer.heap_bytes() +
                        tcb.sack_rx.heap_bytes() + tcb.scoreboard.heap_bytes();
    // A config shared with a listener or other connections is the engine's, not this TCB's.
    if (tcb.config && tcb.config.use_count() == 1) total += sizeof(Config);
    return total;
}

}  // namespace netloom::utcp
