// core_compat.hpp — TEMPORARY: rules the shell needs that the core is gaining right now.
#pragma once
#include "core/rules.hpp"
namespace netloom::utcp {
inline std::size_t send_space(const Tcb& tcb) {
    if (tcb.fin_queued) return 0;
    switch (tcb.state) {
        case TcpState::syn_sent:
        case TcpState::syn_received:
        case TcpState::established:
        case TcpState::close_wait: break;
        default: return 0;
    }
    return tcb.send_queue.size() >= tcb.config.sndbuf ? 0
                                                      : tcb.config.sndbuf - tcb.send_queue.size();
}
inline std::size_t readable_bytes(const Tcb& tcb) {
    return tcb.recv_queue.size();
}
inline std::size_t memory_footprint(const Tcb& tcb) {
    return sizeof(Tcb) + tcb.send_queue.size() + tcb.recv_queue.size() + 1200;
}
inline void set_nodelay_1(Tcb&, bool) {}
inline bool time_wait_accepts_syn(const Tcb& tcb, const Segment& syn) {
    return tcp::gt(syn.seq, tcb.rcv_nxt);
}
inline void deliver_icmp(Tcb& tcb, std::uint8_t type, std::uint8_t code, SeqNum, std::uint16_t,
                         Time, Outputs& out) {
    if (type == 3 && tcb.state == TcpState::syn_sent && (code == 2 || code == 3))
        drop_connection(tcb, TcpError::unreachable, out);
}
}  // namespace netloom::utcp
