// user.cpp — user calls as transitions: send_1, recv_1, shutdown_1, close_1, abort_1
// (RFC 9293 3.10.2-3.10.5).
#include <algorithm>

#include "core/rules.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

std::size_t send_1(Tcb& tcb, std::span<const std::uint8_t> data, Time now, Outputs& out) {
    const bool open = tcb.state == TcpState::established || tcb.state == TcpState::close_wait ||
                      tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received;
    if (!open || tcb.fin_queued) return 0;  // RFC 9293 3.10.2: "connection closing"
    const std::size_t room =
        tcb.config.sndbuf > tcb.send_queue.size() ? tcb.config.sndbuf - tcb.send_queue.size() : 0;
    const std::size_t taken = std::min(room, data.size());
    tcb.send_queue.insert(tcb.send_queue.end(), data.begin(), data.begin() + taken);
    output_tcp(tcb, now, out);
    return taken;
}

std::size_t recv_1(Tcb& tcb, std::span<std::uint8_t> buffer, Time now, Outputs& out) {
    const std::uint32_t window_before = tcb.rcv_wnd();
    const std::size_t n = std::min(buffer.size(), tcb.recv_queue.size());
    std::copy_n(tcb.recv_queue.begin(), n, buffer.begin());
    tcb.recv_queue.erase(tcb.recv_queue.begin(), tcb.recv_queue.begin() + n);
    // RFC 9293 3.8.6.2.2: announce the opened window once it grew by at least an MSS (or half
    // the buffer); the SWS rule lives in receive_window_to_advertise.
    if (n > 0 && tcb.synchronized() && tcb.state != TcpState::time_wait) {
        const std::uint32_t threshold =
            std::min<std::uint32_t>(tcb.config.mss, tcb.config.rcvbuf / 2);
        if (window_before < threshold) {
            const SeqNum old_edge = tcb.rcv_adv;
            Segment probe = make_segment(tcb, tcb.snd_nxt, ack, now);
            if (tcp::gt(tcb.rcv_adv, old_edge)) out.segments.push_back(std::move(probe));
        }
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
    if (!tcb.recv_queue.empty() && tcb.synchronized()) {  // RFC 2525 2.17
        abort_1(tcb, now, out);
        return;
    }
    shutdown_1(tcb, now, out);
}

void abort_1(Tcb& tcb, Time now, Outputs& out) {
    // RFC 9293 3.10.5: RST in SYN-RECEIVED and synchronized states (not TIME-WAIT).
    const bool send_rst = tcb.state != TcpState::closed && tcb.state != TcpState::listen &&
                          tcb.state != TcpState::syn_sent && tcb.state != TcpState::time_wait;
    if (send_rst) out.segments.push_back(make_segment(tcb, tcb.snd_nxt, rst, now));
    tcb.send_queue.clear();
    tcb.recv_queue.clear();
    tcb.ooo.clear();
    drop_connection(tcb, TcpError::aborted, out);
}

}  // namespace netloom::utcp
