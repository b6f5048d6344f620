// pcb_user.cpp — the user calls on a connection (RFC 9293 3.10.2-3.10.5: SEND, RECEIVE, CLOSE,
// ABORT), the tcp_info-like snapshot and the memory figure.
#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using tcp::gt;

namespace {

bool can_queue(TcpState state) {
    return state == TcpState::syn_sent || state == TcpState::syn_received ||
           state == TcpState::established || state == TcpState::close_wait;
}

}  // namespace

std::size_t Pcb::send(std::span<const std::uint8_t> data) {
    if (!can_queue(state_) || fin_queued_) return 0;
    if (host_.memory_level() == tcp::MemoryLevel::hard) {
        host_.send_refused(*this);  // the writer waits for writable (tcp_common memory_budget)
        return 0;
    }
    const std::size_t taken = tx_.append(data);
    if (taken > 0) {
        const PcbHost::ClockHold hold(host_);  // one instant for the segments it sends
        output();
    }
    return taken;
}

std::size_t Pcb::send_space() noexcept {
    if (!can_queue(state_) || fin_queued_) return 0;
    if (host_.memory_level() == tcp::MemoryLevel::hard) {
        host_.send_refused(*this);
        return 0;
    }
    return tx_.free_space();
}

std::size_t Pcb::recv(std::span<std::uint8_t> out) {
    const std::uint32_t before = rx_.window_space();
    const std::size_t n = rx_.read(out);
    if (n == 0 || state_ == TcpState::closed || state_ == TcpState::time_wait || rcv_.fin_received)
        return n;
    // RFC 9293 3.8.6.2.2: tell the peer when the window opens by min(MSS, buffer / 2) beyond
    // the edge we offered (the window update a blocked sender waits for).
    const std::uint32_t offered = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
    const std::uint32_t threshold = std::min<std::uint32_t>(snd_.mss, host_.config().rcvbuf / 2);
    if (rx_.window_space() >= offered + threshold && before < offered + threshold) {
        if (host_.memory_level() != tcp::MemoryLevel::normal) {
            host_.window_held(*this);  // the update goes out when the pressure ends
            return n;
        }
        const PcbHost::ClockHold hold(host_);
        send_ack_now();
    }
    return n;
}

void Pcb::reopen_window() {
    switch (state_) {
        case TcpState::established:
        case TcpState::fin_wait_1:
        case TcpState::fin_wait_2: break;
        default: return;  // no more data will come
    }
    const std::uint32_t current = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
    if (tcp::receive_window_to_advertise(rx_.window_space(), current, host_.config().rcvbuf,
                                         snd_.mss) <= current)
        return;  // a later read announces it (recv)
    const PcbHost::ClockHold hold(host_);
    send_ack_now();
}

void Pcb::shutdown_write() {
    switch (state_) {
        case TcpState::syn_sent:
            enter_closed(TcpError::none);  // RFC 9293 3.10.4: nothing sent yet, forget it
            return;
        case TcpState::syn_received:
            fin_queued_ = true;  // the FIN follows once ESTABLISHED
            return;
        case TcpState::established:
            fin_queued_ = true;
            state_ = TcpState::fin_wait_1;
            output();
            return;
        case TcpState::close_wait:
            fin_queued_ = true;
            state_ = TcpState::last_ack;
            output();
            return;
        default: return;
    }
}

void Pcb::close() {
    user_closed_ = true;
    if (rx_.readable() > 0 && state_ != TcpState::closed && state_ != TcpState::time_wait) {
        // RFC 2525 2.17: closing with unread data resets, so the peer learns it was lost.
        abort();
        return;
    }
    shutdown_write();
    if (state_ == TcpState::fin_wait_2)
        time_wait_timer_.arm(host_.scheduler(), *this, now() + host_.config().fin_wait_2_timeout);
}

void Pcb::abort() {
    switch (state_) {
        case TcpState::closed:
        case TcpState::time_wait: return;
        case TcpState::syn_sent: break;
        default:
            send_rst(snd_.max);  // RFC 9293 3.10.5
            break;
    }
    enter_closed(TcpError::aborted);
}

TcpInfo Pcb::info() const {
    TcpInfo i;
    i.state = state_;
    i.mss = payload_room();
    i.cwnd = snd_.cc.cwnd();
    i.ssthresh = snd_.cc.ssthresh();
    i.srtt_us = static_cast<std::uint32_t>(snd_.rto.srtt().count() / 1000);
    i.rttvar_us = static_cast<std::uint32_t>(snd_.rto.rttvar().count() / 1000);
    i.rto_us = static_cast<std::uint32_t>(snd_.rto.rto().count() / 1000);
    i.snd_wnd = snd_.wnd;
    i.rcv_wnd = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
    i.bytes_in_flight = snd_.nxt - snd_.una;
    i.snd_wscale = snd_.scale;
    i.rcv_wscale = rcv_.scale;
    i.sack_enabled = sack_ok_;
    i.timestamps_enabled = ts_ok_;
    i.bytes_sent = stats_.bytes_sent;
    i.bytes_acked = stats_.bytes_acked;
    i.bytes_received = stats_.bytes_received;
    i.segments_sent = stats_.segments_sent;
    i.segments_received = stats_.segments_received;
    i.retransmits = retransmits;
    i.fast_retransmits = fast_retransmits;
    i.rto_count = rto_count;
    i.sack_recoveries = sack_recoveries;
    i.dup_acks_received = stats_.dup_acks;
    return i;
}

std::size_t Pcb::memory_footprint() const noexcept {
    return sizeof(Pcb) + tx_.heap_bytes() + rx_.heap_bytes() +
           (board_ ? sizeof(tcp::SackScoreboard) : 0);
}

}  // namespace netloom::classic
