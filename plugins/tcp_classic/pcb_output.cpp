// pcb_output.cpp — the transmit side: deciding what to send (RFC 9293 3.8.6.2.1 sender SWS
// avoidance with Nagle, RFC 896, through tcp_common's should_send_now; the congestion window),
// building segments straight into a Packet (one copy from the transmit queue, checksummed in the
// same pass: tcp_common build_segment), the receive
// window we advertise (RFC 9293 3.8.6.2.2, RFC 7323 2.4) and ACK policy (RFC 1122 4.2.3.2).
#include <algorithm>

#include "netloom/tcp_common/persist.hpp"
#include "netloom/tcp_common/segment_output.hpp"
#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;
using tcp::gt;
using tcp::lt;

std::uint32_t Pcb::ts_now() const noexcept {
    // RFC 7323 5.4: a millisecond clock with a per-connection offset.
    return static_cast<std::uint32_t>(now() / std::chrono::milliseconds(1)) + ts_offset_;
}

std::uint32_t Pcb::payload_room() const noexcept {
    // The MSS bounds payload plus options (RFC 9293 3.7.1 / RFC 6691).
    std::uint32_t options = ts_ok_ ? 12 : 0;
    if (sack_ok_ && sack_blocks_.report_size() > 0)
        options += 4 + 8 * static_cast<std::uint32_t>(
                               std::min<std::size_t>(sack_blocks_.report_size(), ts_ok_ ? 3 : 4));
    const std::uint32_t mss = snd_.mss;
    return mss > options + 8 ? mss - options : 8;
}

std::uint32_t Pcb::data_in_queue_after_nxt() const noexcept {
    const std::uint32_t sent = snd_.nxt - snd_.una;
    return sent >= tx_.size() ? 0 : tx_.size() - sent;
}

std::uint16_t Pcb::window_field() noexcept {
    const EngineConfig& config = host_.config();
    const std::uint32_t current = gt(rcv_.adv, rcv_.nxt) ? rcv_.adv - rcv_.nxt : 0;
    std::uint32_t offer =
        tcp::receive_window_to_advertise(rx_.window_space(), current, config.rcvbuf, snd_.mss);
    if (offer > current && host_.memory_level() != tcp::MemoryLevel::normal) {
        // Memory pressure (tcp_common memory_budget.hpp): the right edge stays where it is,
        // never retracted (RFC 7323 2.4), until the pressure ends and reopen_window() runs.
        offer = current;
        host_.window_held(*this);
    }
    // RCV.ADV is the edge the header can carry: without window scaling at most 65535 bytes
    // (RFC 7323 2.3), so the rest of a larger buffer is not on offer (and a read that frees it
    // is no window update the peer could see).
    offer = std::min(offer, std::uint32_t{0xffff} << rcv_.scale);
    // Never offer space the ring lacks: round down to the scale unit.
    offer &= ~((std::uint32_t{1} << rcv_.scale) - 1);
    if (gt(rcv_.nxt + offer, rcv_.adv)) rcv_.adv = rcv_.nxt + offer;
    // The edge already offered stands (RFC 7323 2.4): round that one up.
    return tcp::encode_window_round_up(rcv_.adv - rcv_.nxt, rcv_.scale);
}

void Pcb::build_and_send(const wire::TcpRepr& repr, std::uint32_t payload_offset,
                         std::uint32_t payload_length, bool is_rst) {
    tcp::PayloadPieces payload{};
    if (payload_length > 0) {
        payload = tx_.view(payload_offset, payload_length);
        if (payload[0].size() + payload[1].size() != payload_length) return;  // not queued
    }
    Packet packet = tcp::build_segment(repr, payload, tuple_.local_address, tuple_.remote_address,
                                       host_.ip().checksum());
    if (!packet) return;
    snd_.last_send = now();
    host_.transmit(tuple_, std::move(packet), is_rst);
}

void Pcb::send_segment(SeqNum seq, std::uint32_t length, std::uint8_t flags) {
    wire::TcpRepr repr;
    repr.source_port = tuple_.local_port;
    repr.destination_port = tuple_.remote_port;
    repr.sequence_number = seq.value();
    repr.flags = flags | ack;
    repr.acknowledgment_number = rcv_.nxt.value();
    repr.window = window_field();
    if (ts_ok_) repr.options.timestamps = wire::TcpTimestamps{stamp_tsval(), ts_recent_};
    if (sack_ok_ && sack_blocks_.report_size() > 0) {
        sack_blocks_.fill(repr.options);
        sack_blocks_.on_ack_sent();  // RFC 2883 4 rule 2: a D-SACK block is sent once
    }
    last_ack_sent_ = rcv_.nxt;
    delayed_ack_timer_.stop();
    ++stats_.segments_sent;
    stats_.bytes_sent += length;
    if (length > 0 || (flags & fin)) {
        if (lt(seq, snd_.max)) {
            ++retransmits;
            snd_.timed_seq.reset();  // Karn (RFC 6298 3): its ACK could answer either copy
        } else if (!snd_.timed_seq) {
            snd_.timed_seq = seq;  // Karn: time one new segment at a time
            snd_.timed_at = now();
        }
    }
    build_and_send(repr, length == 0 ? 0 : seq - snd_.una, length, false);
}

void Pcb::output() {
    switch (state_) {
        case TcpState::established:
        case TcpState::close_wait:
        case TcpState::fin_wait_1:
        case TcpState::closing:
        case TcpState::last_ack: break;
        default: return;
    }
    if (sack_recovery_active()) {
        sack_output();
        return;
    }
    const std::uint32_t room = payload_room();
    for (;;) {
        std::uint32_t sack_limit = UINT32_MAX;
        skip_sacked(sack_limit);
        const std::uint32_t queued = data_in_queue_after_nxt();
        const std::uint32_t window = std::min(snd_.wnd, snd_.cc.cwnd());
        const std::uint32_t flight = flight_size();
        const std::uint32_t usable = window > flight ? window - flight : 0;
        if (queued > 0) {
            const std::uint32_t length = std::min({queued, room, usable, sack_limit});
            // Nagle is off for the last segment once our FIN is queued (nothing more will come).
            const bool nodelay = nodelay_ || fin_queued_;
            // Half the peer's largest window counts only windows since its SYN (tcp_common
            // sws_max_window): a peer whose whole window is small gets data every round trip.
            const std::uint32_t max_window = tcp::sws_max_window(snd_.max_wnd_after_syn, snd_.wnd);
            if (length == 0 ||
                !tcp::should_send_now(queued, room, usable, flight, nodelay, true, max_window))
                break;
            std::uint8_t flags = 0;
            if (length == queued) flags |= psh;
            if (length == queued && fin_queued_) flags |= fin;
            const SeqNum seq = snd_.nxt;
            send_segment(seq, length, flags);
            snd_.nxt = seq + length + ((flags & fin) ? 1 : 0);
            snd_.max = tcp::seq_max(snd_.max, snd_.nxt);
            arm_retransmit();
            continue;
        }
        if (fin_queued_ && !fin_acked_ && snd_.nxt == fin_seq()) {
            send_segment(snd_.nxt, 0, fin);
            snd_.nxt = snd_.nxt + 1;
            snd_.max = tcp::seq_max(snd_.max, snd_.nxt);
            arm_retransmit();
        }
        break;
    }
    // RFC 9293 3.8.6.1: data waiting, nothing in flight and no window: probe it.
    if (data_in_queue_after_nxt() > 0 && snd_.nxt == snd_.una && !retransmit_timer_.armed())
        persist_timer_.arm_if_idle(host_.scheduler(), *this,
                                   now() + tcp::persist_interval(snd_.rto, backoff_probes_));
}

void Pcb::retransmit_first() {
    // One segment from SND.UNA (fast retransmit, partial ACK, RTO).
    const std::uint32_t length = std::min(tx_.size(), payload_room());
    std::uint8_t flags = 0;
    if (length == tx_.size() && fin_queued_ && !fin_acked_ && gt(snd_.max, fin_seq())) flags |= fin;
    if (length == 0 && !(flags & fin)) return;
    // PSH marks the last buffered data (RFC 1122 4.2.2.2); a bare FIN carries none (RFC 9293
    // 3.9.1), as it did when first sent by output().
    const bool last_data = length > 0 && length == tx_.size();
    send_segment(snd_.una, length, flags | (last_data ? psh : 0));
    const SeqNum end = snd_.una + length + ((flags & fin) ? 1 : 0);
    if (lt(snd_.nxt, end)) snd_.nxt = end;
    snd_.max = tcp::seq_max(snd_.max, snd_.nxt);
}

void Pcb::send_ack_now() {
    // At the highest sequence sent, not a rewound SND.NXT: after a go-back-N rewind an ACK at
    // SND.NXT would fall left of the peer's window and be dropped with the news it carries.
    send_segment(snd_.max, 0, 0);
}

void Pcb::schedule_ack() {
    // RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK at least every second full-sized segment (counted in
    // bytes, tcp_common receiver_ack.hpp), and within delack_timeout otherwise.
    const EngineConfig& config = host_.config();
    if (!config.delayed_ack ||
        tcp::delayed_ack_due(rcv_.nxt - last_ack_sent_, rcv_.full_sized, config.mss)) {
        send_ack_now();
        return;
    }
    delayed_ack_timer_.arm_if_idle(host_.scheduler(), *this, now() + config.delack_timeout);
}

void Pcb::send_challenge_ack() {
    // RFC 5961 7: rate-limited engine-wide.
    if (!host_.take_challenge_ack()) return;
    send_ack_now();
}

void Pcb::send_rst(SeqNum seq) {
    wire::TcpRepr repr;
    repr.source_port = tuple_.local_port;
    repr.destination_port = tuple_.remote_port;
    repr.sequence_number = seq.value();
    repr.flags = rst;
    build_and_send(repr, 0, 0, true);
}

}  // namespace netloom::classic
