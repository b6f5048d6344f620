// pcb_state.cpp — RFC 9293 3.3.2 state transitions of a connection, one method each, and the
// events they report to the user.
#include <algorithm>

#include "pcb.hpp"

namespace netloom::classic {

void Pcb::enter_established() {
    state_ = TcpState::established;
    // RFC 6298 5.7: the SYN (or SYN-ACK) timed out and no RTT sample came from the handshake
    // (Karn): the RTO restarts from 3 s, not the 1 s initial value.
    if (rto_count > 0 && !snd_.rto.has_sample()) snd_.rto.set_initial_rto(std::chrono::seconds(3));
    snd_.rto.reset_backoff();
    restart_keepalive();
    host_.established(*this);
    if (!passive_) host_.post_events(*this, kTcpConnected | kTcpWritable);
    if (fin_queued_) state_ = TcpState::fin_wait_1;  // shutdown_write() came during the handshake
    output();
}

void Pcb::on_fin_received() {
    // RFC 9293 3.10.7.4 eighth check: the FIN takes one sequence number and is ACKed at once.
    rcv_.nxt = rcv_.nxt + 1;
    rcv_.fin.reset();
    rcv_.fin_received = true;
    host_.post_events(*this, kTcpReadable);
    switch (state_) {
        case TcpState::syn_received:
        case TcpState::established: state_ = TcpState::close_wait; break;
        case TcpState::fin_wait_1:
            state_ = TcpState::closing;  // simultaneous close: our FIN is not acknowledged yet
            break;
        case TcpState::fin_wait_2:
            send_ack_now();  // before TIME-WAIT, which may close at once (max_time_wait)
            enter_time_wait();
            return;
        default: break;
    }
    send_ack_now();
}

void Pcb::on_our_fin_acked() {
    fin_acked_ = true;
    switch (state_) {
        case TcpState::fin_wait_1:
            state_ = TcpState::fin_wait_2;
            // RFC 9293 3.10.7.4 note / Linux tcp_fin_timeout: bound FIN-WAIT-2 once nobody reads.
            if (user_closed_)
                time_wait_timer_.arm(host_.scheduler(), *this,
                                     now() + host_.config().fin_wait_2_timeout);
            break;
        case TcpState::closing: enter_time_wait(); break;
        case TcpState::last_ack: enter_closed(TcpError::none); break;
        default: break;
    }
}

void Pcb::enter_time_wait() {
    state_ = TcpState::time_wait;
    time_wait_since_ = now();
    tx_.clear();
    Scheduler& s = host_.scheduler();
    retransmit_timer_.cancel(s);
    persist_timer_.cancel(s);
    keepalive_timer_.cancel(s);
    if (!host_.admit_time_wait(*this)) {
        enter_closed(TcpError::none);  // too many already wait: skip TIME-WAIT (Linux does too)
        return;
    }
    // RFC 9293 3.10.7.4: TIME-WAIT lasts 2 MSL.
    time_wait_timer_.arm(s, *this, now() + 2 * host_.config().msl);
    host_.post_events(*this, kTcpClosed);
}

bool Pcb::syn_may_reopen(const Segment& syn) const noexcept {
    // RFC 6191 2: with timestamps on the old connection and the SYN, the SYN's TSval decides;
    // otherwise (RFC 1122 4.2.2.13) its sequence number must be past RCV.NXT.
    if (ts_ok_ && syn.options.timestamps)
        return static_cast<std::int32_t>(syn.options.timestamps->value - ts_recent_) > 0;
    return tcp::gt(syn.seq, rcv_.nxt);
}

std::optional<tcp::TimeWaitRecord> Pcb::time_wait_record() const noexcept {
    if (state_ != TcpState::time_wait || !time_wait_timer_.deadline()) return std::nullopt;
    return tcp::TimeWaitRecord{ts_ok_, last_tsval_, snd_.nxt, time_wait_since_,
                               *time_wait_timer_.deadline()};
}

void Pcb::end_time_wait() {
    if (state_ == TcpState::time_wait) enter_closed(TcpError::none);
}

void Pcb::engine_gone() noexcept {
    cancel_timers();
    state_ = TcpState::closed;
    if (error_ == TcpError::none) error_ = TcpError::aborted;
    tx_.clear();
    rx_.clear();
    sack_blocks_.clear();
    board_.reset();
    on_event = nullptr;
}

void Pcb::enter_closed(TcpError error) {
    const bool was_open = state_ != TcpState::closed;
    state_ = TcpState::closed;
    if (error != TcpError::none && error_ == TcpError::none) error_ = error;
    cancel_timers();
    tx_.clear();
    sack_blocks_.clear();
    if (error != TcpError::none) rx_.clear();  // RFC 9293 3.10.7.4: a reset flushes the queues
    if (was_open) {
        host_.post_events(*this, error != TcpError::none ? kTcpError : kTcpClosed);
        host_.retire(*this);
    }
}

}  // namespace netloom::classic

namespace netloom::classic {

namespace {

constexpr std::uint8_t kDestinationUnreachable = 3;
constexpr std::uint8_t kSourceQuench = 4;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kParameterProblem = 12;
constexpr std::uint8_t kFragmentationNeeded = 4;
constexpr std::uint16_t kMinIpv4Mtu = 68;      // RFC 791: every link passes 68 bytes
constexpr std::uint16_t kMinSendMss = 536;     // RFC 9293 3.7.1 default, RFC 1122's floor
constexpr std::uint16_t kIpv4TcpHeaders = 40;  // options are counted per segment

}  // namespace

void Pcb::icmp_error(const IcmpErrorReport& report) {
    if (state_ == TcpState::closed || state_ == TcpState::time_wait) return;
    // RFC 5927 4.1: only an error quoting a sequence number we have outstanding is believed.
    const SeqNum quoted(report.quoted_word);
    if (!tcp::in_window(quoted, snd_.una, std::max<std::uint32_t>(snd_.max - snd_.una, 1))) return;
    if (report.type == kSourceQuench) return;  // RFC 6633: ignored
    if (report.type == kDestinationUnreachable && report.code == kFragmentationNeeded) {
        lower_mss(report.next_hop_mtu);
        return;
    }
    // RFC 1122 4.2.3.9: port and protocol unreachable (codes 2, 3) are hard errors; RFC 5461
    // lets a synchronized connection survive them, so only a connection still opening is
    // aborted, refused as by a RST (Linux: ECONNREFUSED). Net and host unreachable (0, 1, and
    // a local resolution failure, which the IP layer reports as code 1) MUST NOT abort: they
    // are soft errors, remembered and reported only if the connection then gives up (as
    // tcp_utcp does; Linux aborts an opening connection on them, RFC 5461 3).
    const bool opening = state_ == TcpState::syn_sent || state_ == TcpState::syn_received;
    if (opening && report.type == kDestinationUnreachable &&
        (report.code == 2 || report.code == 3)) {
        enter_closed(TcpError::refused);
        return;
    }
    if (report.type == kDestinationUnreachable || report.type == kTimeExceeded ||
        report.type == kParameterProblem)
        soft_error_ = TcpError::unreachable;
}

void Pcb::lower_mss(std::uint16_t next_hop_mtu) {
    // RFC 1191 / RFC 1122: an MTU below 68 is bogus (or an RFC 1191 router that does not say:
    // no plateau search here); a plausible one lowers the send MSS, never below 536 and
    // never up (ICMP only says the path got smaller).
    if (next_hop_mtu < kMinIpv4Mtu) return;
    const auto mss = static_cast<std::uint16_t>(
        std::max<int>(kMinSendMss, static_cast<int>(next_hop_mtu) - kIpv4TcpHeaders));
    path_mss_ = std::min(path_mss_, mss);
    if (mss >= snd_.mss) return;
    snd_.mss = mss;
    if (state_ == TcpState::syn_sent || state_ == TcpState::syn_received) return;
    // The segments in flight were too big and are gone: resend from SND.UNA at the new size.
    // Not a congestion signal (RFC 1191 6.5): cwnd stays; the scoreboard's segment boundaries
    // no longer hold, so SACK information and a running recovery are dropped.
    if (board_) board_->clear();
    release_scoreboard_if_idle();
    if (snd_.in_recovery) {
        snd_.in_recovery = false;
        snd_.cc.exit_recovery(flight_size());
    }
    snd_.timed_seq.reset();  // Karn: what is resent now may not be timed
    snd_.nxt = snd_.una;
    output();
}

}  // namespace netloom::classic
