// user.cpp — user calls as transitions: send_1, recv_1, shutdown_1, close_1, abort_1
// (RFC 9293 3.10.2-3.10.5), set_nodelay_1 and set_keepalive_1.
#include <algorithm>

#include "core/detail.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {
bool may_send(const Tcb& tcb) {
    const bool open = tcb.state == TcpState::established || tcb.state == TcpState::close_wait ||
                      tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received;
    return open && !tcb.fin_queued;  // RFC 9293 3.10.2: "connection closing"
}
}  // namespace

std::size_t send_space(const Tcb& tcb) noexcept {
    return may_send(tcb) ? tcb.send_buffer.free_space() : 0;
}

std::size_t send_1(Tcb& tcb, std::span<const std::uint8_t> data, Time now, Outputs& out) {
    if (!may_send(tcb)) return 0;
    const std::size_t taken = tcb.send_buffer.append(data);
    if (taken > 0) output_tcp(tcb, now, out);
    return taken;
}

void window_update_1(Tcb& tcb, Time now, Outputs& out) {
    const bool may_receive = tcb.state == TcpState::established ||
                             tcb.state == TcpState::fin_wait_1 || tcb.state == TcpState::fin_wait_2;
    if (may_receive && detail::window_would_open(tcb))
        out.segments.push_back(make_segment(tcb, tcb.snd_nxt, ack, now));
}

std::size_t recv_1(Tcb& tcb, std::span<std::uint8_t> buffer, Time now, Outputs& out) {
    const std::size_t n = tcb.recv_buffer.read(buffer);
    // RFC 9293 3.8.6.2.2 / RFC 1122 4.2.3.3, RFC 813: announce the opened window at once when
    // the read lets the right edge move by min(Eff.snd.MSS, buffer / 2) (window_update_due), as RFC
    // 5681 4.2 allows beside the ACKs of segments, and as tcp_classic does. Announcing it only when
    // the window had nearly closed left the new edge to the next ACK, which then differed in its
    // window from the last one and so was not a duplicate ACK (RFC 5681 2, condition e): after
    // every loss the peer saw one duplicate fewer, and without SACK a short flight fell to the RTO
    // (soak: twice tcp_classic's RTOs). Under memory pressure the window stays shut (window_field):
    // the update is owed.
    if (n > 0 && tcb.memory_level != tcp::MemoryLevel::normal) tcb.window_held = true;
    if (n > 0 && tcb.synchronized() && tcb.state != TcpState::time_wait) {
        // Only a segment actually sent may touch the TCB (make_segment takes the owed ACK
        // as sent and stops the delayed-ACK timer).
        if (detail::window_update_due(tcb))
            out.segments.push_back(make_segment(tcb, tcb.snd_nxt, ack, now));
    }
    return n;
}

void shutdown_1(Tcb& tcb, Time now, Outputs& out) {
    switch (tcb.state) {
        case TcpState::syn_sent: drop_connection(tcb, TcpError::none, out); return;
        case TcpState::syn_received:
            // RFC 9293 3.10.4: the FIN waits until the handshake completes (deliver_in_3 then
            // enters FIN-WAIT-1), so it never precedes the ACK of our SYN.
            tcb.fin_queued = true;
            return;
        case TcpState::established: tcb.state = TcpState::fin_wait_1; break;
        case TcpState::close_wait: tcb.state = TcpState::last_ack; break;
        default: return;  // already closing
    }
    tcb.fin_queued = true;
    output_tcp(tcb, now, out);
}

void close_1(Tcb& tcb, Time now, Outputs& out) {
    if (tcb.recv_buffer.readable() > 0 && tcb.synchronized()) {  // RFC 2525 2.17
        abort_1(tcb, now, out);
        return;
    }
    tcb.user_closed = true;
    shutdown_1(tcb, now, out);
    // Closed both ways while already in FIN-WAIT-2 (shutdown_1 earlier): start its timeout.
    if (tcb.state == TcpState::fin_wait_2 && !tcb.timers.fin_wait_2)
        tcb.timers.fin_wait_2 = now + tcb.config->fin_wait_2_timeout;
}

void abort_1(Tcb& tcb, Time now, Outputs& out) {
    // RFC 9293 3.10.5: RST in SYN-RECEIVED and synchronized states (not TIME-WAIT). Its sequence
    // is SND.MAX: after a timeout SND.NXT was rewound, and a RST below what the peer already
    // received could fall outside its window and be ignored (RFC 5961 3.2 wants an exact
    // match with the peer's RCV.NXT, which is at most SND.MAX).
    const bool send_rst = tcb.state != TcpState::closed && tcb.state != TcpState::listen &&
                          tcb.state != TcpState::syn_sent && tcb.state != TcpState::time_wait;
    if (send_rst) out.segments.push_back(make_segment(tcb, tcb.snd_max, rst, now));
    tcb.send_buffer.clear();
    tcb.recv_buffer.clear();
    tcb.scoreboard.reset();
    tcb.sack_rx.reset();
    drop_connection(tcb, TcpError::aborted, out);
}

void set_nodelay_1(Tcb& tcb, bool nodelay) noexcept {
    tcb.nodelay = nodelay;
}

void set_keepalive_1(Tcb& tcb, bool on, Time now) noexcept {
    tcb.keepalive_on = on;
    tcb.unanswered_probes = 0;
    detail::arm_keepalive(tcb, now);
}

}  // namespace netloom::utcp
