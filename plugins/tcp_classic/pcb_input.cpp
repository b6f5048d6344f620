// pcb_input.cpp — segment arrival, in the order of RFC 9293 3.10.7: SYN-SENT handling
// (3.10.7.3), then for synchronized states the PAWS test (RFC 7323 5.3), the acceptability test,
// RST and SYN checks with RFC 5961 challenge ACKs, the ACK (with RFC 5961 5.2 bounds), text and
// FIN. ACK-driven send-side work (RTT, congestion control, fast retransmit) is in pcb_ack.cpp.
#include "netloom/tcp_common/paws.hpp"
#include "netloom/tcp_common/receiver_ack.hpp"
#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;
using tcp::ge;
using tcp::gt;
using tcp::le;
using tcp::lt;

void Pcb::input(const Segment& seg) {
    const PcbHost::ClockHold hold(host_);  // one instant for the whole segment
    last_received_ = now();
    keepalive_probes_ = 0;
    unanswered_probes_ = 0;  // the peer is alive: a zero-window probe was answered
    ++stats_.segments_received;
    switch (state_) {
        case TcpState::closed:
        case TcpState::listen: return;
        case TcpState::syn_sent: input_syn_sent(seg); return;
        default: break;
    }
    // A retransmitted SYN while we wait for the handshake's ACK: repeat the SYN-ACK.
    if (state_ == TcpState::syn_received && seg.syn() && !seg.ack.has_value() &&
        seg.seq == rcv_.irs) {
        send_syn(true);
        return;
    }
    // RFC 7323 3.2 / 5.3: after negotiation every non-RST segment carries TSopt, and one older
    // than TS.Recent is a duplicate from an earlier wrap (PAWS), unless TS.Recent is over 24
    // days old (RFC 7323 5.5, tcp_common paws.hpp).
    if (ts_ok_ && !seg.rst()) {
        if (!seg.options.timestamps) {
            host_.note(tcp::Counter::rx_no_timestamp);
            return;
        }
        if (tcp::paws_rejects(seg.options.timestamps->value, ts_recent_, now() - ts_recent_time_)) {
            host_.note(tcp::Counter::rx_paws);
            // Like Linux, the part below RCV.NXT of a segment PAWS drops is reported (RFC 2883).
            note_duplicate(seg.seq, seg.seq + seg.seq_length(), false);
            send_ack_now();
            return;
        }
    }
    // RFC 9293 3.10.7.4: in TIME-WAIT only a retransmission of the peer's FIN can arrive (our
    // ACK of it was lost). Acknowledge it again and restart the 2 MSL timeout.
    if (state_ == TcpState::time_wait && seg.fin() && !seg.syn() && !seg.rst() &&
        seg.seq + static_cast<std::uint32_t>(seg.payload.size()) + 1 == rcv_.nxt) {
        send_ack_now();
        time_wait_timer_.arm(host_.scheduler(), *this, now() + 2 * host_.config().msl);
        return;
    }
    // RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK whatever its sequence
    // number (in window or not); it never resets the connection.
    if (seg.syn() && !seg.rst()) {
        send_challenge_ack();
        return;
    }
    Segment trimmed = seg;
    if (!acceptable(seg)) {
        const std::uint32_t window = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
        // RFC 9293 3.10.7.4: with a zero window, ACKs (and RSTs) at RCV.NXT are still processed.
        if (window == 0 && seg.seq == rcv_.nxt && !seg.syn()) {
            trimmed.payload = {};
            if (trimmed.fin()) trimmed.control = tcp::Control::none;
            if (!seg.payload.empty()) send_ack_now();
        } else if (seg.rst()) {
            host_.note(tcp::Counter::rx_rst_ignored);  // RFC 5961 3.2: out of window, dropped
            return;
        } else {
            host_.note(tcp::Counter::rx_unacceptable);
            // A retransmission of what we already acknowledged: D-SACK it (RFC 2883 4.1.1).
            if (state_ != TcpState::time_wait)
                note_duplicate(seg.seq, seg.seq + seg.seq_length(), false);
            send_ack_now();
            return;
        }
    }
    if (seg.rst()) {
        check_rst(trimmed);
        return;
    }
    if (!seg.ack.has_value()) return;
    if (!check_ack(trimmed)) return;
    // RFC 7323 4.3: TS.Recent follows the segment that passed every check and covers Last.ACK.sent.
    if (ts_ok_ && seg.options.timestamps && le(seg.seq, last_ack_sent_)) {
        ts_recent_ = seg.options.timestamps->value;
        ts_recent_time_ = now();
    }
    if (state_ == TcpState::closed) return;
    process_ack(trimmed);
    if (state_ == TcpState::closed) return;
    process_text(trimmed);
    if (state_ == TcpState::closed) return;  // TIME-WAIT skipped (max_time_wait)
    output();
    restart_keepalive();
}

void Pcb::input_syn_sent(const Segment& seg) {
    // RFC 9293 3.10.7.3.
    if (seg.ack.has_value() && (le(*seg.ack, snd_.iss) || gt(*seg.ack, snd_.max))) {
        if (!seg.rst()) send_rst(*seg.ack);
        return;
    }
    if (seg.rst()) {
        if (seg.ack.has_value()) enter_closed(TcpError::refused);
        return;
    }
    if (!seg.syn()) return;
    rcv_.irs = seg.seq;
    rcv_.nxt = seg.seq + 1;
    rcv_.adv = rcv_.nxt + std::min<std::uint32_t>(host_.config().rcvbuf, 0xffff);
    negotiate(seg.options, seg.ack.has_value());
    snd_.wnd = seg.window;  // RFC 7323 2.2: never scaled on a SYN
    snd_.max_wnd = snd_.wnd;
    snd_.wl1 = seg.seq;
    snd_.wl2 = seg.ack.value_or(snd_.iss);  // simultaneous open: no ACK yet
    if (!seg.ack.has_value()) {
        // Simultaneous open (RFC 9293 3.5 figure 7): SYN-RECEIVED, answer with SYN-ACK.
        state_ = TcpState::syn_received;
        snd_.nxt = snd_.iss;  // send_syn sends the SYN again, now with the ACK
        send_syn(true);
        arm_retransmit();
        return;
    }
    const SeqNum previous = snd_.una;
    snd_.una = *seg.ack;
    take_rtt_sample(seg, previous);
    retransmit_timer_.stop();
    send_ack_now();
    enter_established();
}

bool Pcb::acceptable(const Segment& seg) const noexcept {
    // RFC 9293 3.10.7.4 first check, the four cases of the table.
    const std::uint32_t window = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
    const std::uint32_t length = seg.seq_length();
    if (length == 0)
        return window == 0 ? seg.seq == rcv_.nxt : tcp::in_window(seg.seq, rcv_.nxt, window);
    if (window == 0) return false;
    return tcp::in_window(seg.seq, rcv_.nxt, window) ||
           tcp::in_window(seg.seq + (length - 1), rcv_.nxt, window);
}

bool Pcb::check_rst(const Segment& seg) {
    // RFC 5961 3.2: reset only on an exact RCV.NXT match; in window gets a challenge ACK.
    if (seg.seq != rcv_.nxt) {
        host_.note(tcp::Counter::rx_rst_ignored);
        send_challenge_ack();
        return false;
    }
    switch (state_) {
        case TcpState::syn_received:
            // RFC 9293 3.10.7.4: a passive open goes back to LISTEN (here: forgotten); an active
            // one (simultaneous open) is refused.
            enter_closed(passive_ ? TcpError::none : TcpError::refused);
            return true;
        case TcpState::time_wait:  // RFC 1337: TIME-WAIT ignores RSTs
            host_.note(tcp::Counter::rx_rst_ignored);
            return false;
        case TcpState::closing:
        case TcpState::last_ack: enter_closed(TcpError::none); return true;
        default: enter_closed(TcpError::reset); return true;
    }
}

bool Pcb::check_ack(const Segment& seg) {
    if (state_ == TcpState::syn_received) {
        if (lt(snd_.una, *seg.ack) && le(*seg.ack, snd_.max)) {
            // The accept queue never exceeds the backlog: stay in SYN-RECEIVED and let the
            // peer's retransmission (or ours of the SYN-ACK) complete the handshake later.
            if (host_.accept_queue_full(*this)) return false;
            const SeqNum previous = snd_.una;
            snd_.una = *seg.ack;
            snd_.wnd = tcp::decode_window(seg.window, snd_.scale);
            snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
            snd_.max_wnd_after_syn = std::max(snd_.max_wnd_after_syn, snd_.wnd);
            snd_.wl1 = seg.seq;
            snd_.wl2 = *seg.ack;
            take_rtt_sample(seg, previous);
            retransmit_timer_.stop();
            enter_established();
            return state_ != TcpState::closed;
        }
        send_rst(*seg.ack);
        return false;
    }
    // RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]; others are answered
    // with an ACK and dropped.
    if (gt(*seg.ack, snd_.max) || lt(*seg.ack, snd_.una - snd_.max_wnd)) {
        host_.note(tcp::Counter::rx_ack_unsent);
        send_challenge_ack();
        return false;
    }
    return true;
}

void Pcb::process_text(const Segment& seg) {
    switch (state_) {
        case TcpState::established:
        case TcpState::fin_wait_1:
        case TcpState::fin_wait_2: break;
        default: return;  // CLOSE-WAIT and later: the peer already sent its FIN
    }
    std::span<const std::uint8_t> data = seg.payload;
    SeqNum start = seg.seq;
    // Before queueing: which part, if any, repeats what we hold (RFC 2883 4).
    const bool duplicate =
        note_duplicate(start, start + static_cast<std::uint32_t>(data.size()), true);
    if (lt(start, rcv_.nxt)) {  // drop what we already have
        const std::uint32_t skip = rcv_.nxt - start;
        if (skip >= data.size()) {
            data = {};
        } else {
            data = data.subspan(skip);
        }
        start = rcv_.nxt;
    }
    if (!data.empty() && user_closed_) {
        // RFC 2525 2.17 / RFC 9293 3.10.4: after close() nobody will ever read new data, so
        // the peer is told it was lost instead of being ACKed into a void.
        abort();
        return;
    }
    bool stored_all = true;
    if (!data.empty()) {
        const std::uint32_t offset = start - rcv_.nxt;
        if (memory_refuses(offset, seg)) {
            // Dropped, not stored: the peer resends it. The ACK (RFC 9293 3.10.7.4, as for
            // a zero window) tells it where we are; a FIN with the data waits for it too.
            send_ack_now();
            return;
        }
        const bool had_holes = !rx_.ranges().empty();
        rcv_.full_sized =
            tcp::full_sized_after(rcv_.full_sized, static_cast<std::uint32_t>(seg.payload.size()));
        const auto result = rx_.insert(offset, data, seg.packet);  // a slice of the packet
        stored_all = result.stored == data.size() && !result.refused;
        if (result.advanced > 0) {
            rcv_.nxt = rcv_.nxt + result.advanced;
            stats_.bytes_received += result.advanced;
            if (sack_ok_) sack_blocks_.on_advance(rcv_.nxt);
            host_.post_events(*this, kTcpReadable);
        }
        if (offset > 0 && result.stored > 0 && sack_ok_)
            sack_blocks_.on_out_of_order(start, start + result.stored, rcv_.nxt);
        // RFC 5681 4.2: out-of-order data and segments filling (part of) a gap are ACKed at
        // once, and so are the next few after a gap closed (tcp_common receiver_ack.hpp); a
        // duplicate too, so its D-SACK goes out in the ACK for the segment (RFC 2883 4 rule 1).
        if (offset > 0 || !stored_all || result.advanced == 0 || duplicate ||
            tcp::ack_now_for_in_order_data(had_holes, rcv_.quick_acks)) {
            send_ack_now();
        } else {
            schedule_ack();
        }
    }
    if (seg.fin() && stored_all)
        rcv_.fin = seg.seq + static_cast<std::uint32_t>(seg.payload.size());
    if (rcv_.fin && *rcv_.fin == rcv_.nxt) {
        on_fin_received();
    } else if (seg.fin() && data.empty()) {
        // A FIN beyond a gap waits for the missing data, but like any out-of-order segment it
        // is ACKed at once (RFC 9293 3.10.7.4, RFC 5681 4.2): the duplicate ACK tells the
        // peer what is missing. (With data, the data's own ACK was sent above.)
        send_ack_now();
    }
}

bool Pcb::memory_refuses(std::uint32_t offset, const Segment& seg) {
    // tcp_common memory_budget.hpp: under pressure out-of-order data goes first, at the hard
    // limit (this packet's buffer included) in-order data too.
    const std::size_t extra = seg.packet ? seg.packet->buffer_bytes() : seg.payload.size();
    const tcp::MemoryLevel level = host_.memory_level(extra);
    if (level == tcp::MemoryLevel::normal) return false;
    if (offset > 0) {
        host_.note(tcp::Counter::ooo_dropped_memory);
    } else if (level == tcp::MemoryLevel::hard) {
        host_.note(tcp::Counter::rx_dropped_memory);
    } else {
        return false;
    }
    host_.window_held(*this);  // the window update after the pressure restarts the peer
    return true;
}

bool Pcb::note_duplicate(SeqNum left, SeqNum right, bool queued) {
    if (!sack_ok_) return false;  // RFC 2883 4: D-SACK only when SACK was negotiated
    const auto duplicate = tcp::find_duplicate(
        left, right, rcv_.nxt,
        queued ? rx_.ranges() : std::span<const tcp::ReassemblyBuffer::Range>{});
    if (!duplicate) return false;
    sack_blocks_.on_duplicate(*duplicate, rcv_.nxt);
    return true;
}

}  // namespace netloom::classic
