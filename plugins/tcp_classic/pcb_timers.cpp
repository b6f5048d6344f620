// pcb_timers.cpp — the connection's timer expiries: retransmission (RFC 6298 5 with exponential
// backoff and give-up; SYN retransmission; RFC 5681 3.1 loss window through tcp_common),
// delayed ACK (RFC 1122 4.2.3.2), persist / zero-window probe (RFC 9293 3.8.6.1), keepalive
// (RFC 1122 4.2.3.6) and TIME-WAIT / FIN-WAIT-2.
#include <algorithm>

#include "netloom/tcp_common/loss_detection.hpp"
#include "netloom/tcp_common/persist.hpp"
#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

using namespace std::chrono_literals;

namespace netloom::classic {

using namespace wire::tcp_flag;

Time Pcb::retransmit_deadline() noexcept {
    // RFC 8985 7.2: with SACK and an RTT estimate, the timer first fires as a tail loss probe
    // after PTO = 2 SRTT (plus the peer's delayed-ACK time when one segment is in flight, and
    // never under tcp_common's floor), at most the RTO. In SACK recovery the probe resends the
    // first hole (a lost retransmission nothing sent later could reveal).
    const Time rto = snd_.rto.rto();
    probe_pending_ = false;
    reorder_pending_ = false;
    const bool recovering = sack_recovery_active();
    if (sack_ok_ && snd_.rto.has_sample() && (!snd_.in_recovery || recovering) && !probe_sent_ &&
        snd_.timeouts == 0 && state_ != TcpState::syn_sent && state_ != TcpState::syn_received) {
        const bool one_segment = !recovering && flight_size() <= payload_room();
        const Time pto = tcp::probe_timeout(snd_.rto, one_segment, tcp::kWorstCaseDelayedAck);
        if (pto < rto) {
            probe_pending_ = true;
            return now() + pto;
        }
    }
    return now() + rto;
}

void Pcb::arm_retransmit() {
    if (!retransmit_timer_.armed())
        retransmit_timer_.arm(host_.scheduler(), *this, retransmit_deadline());
}

void Pcb::probe_first_hole() {
    // A SACK recovery that went a PTO without progress lost the retransmission of its first
    // hole, with nothing sent after it whose SACK could tell (RFC 8985 6.2 needs a later
    // segment delivered). Resend that hole once, regardless of cwnd; the RTO stays armed for
    // a path that is really gone.
    const SeqNum first_hole_end = board_->ranges().empty() ? snd_.max : board_->ranges()[0].left;
    board_->restart_retransmissions(tcp::seq_min(first_hole_end, board_->high_rxt()));
    const auto next = board_->next_segment(snd_.max, 0);
    if (!next) return;
    const std::uint32_t offset = next->start - snd_.una;
    if (offset >= tx_.size()) return;
    const std::uint32_t length =
        std::min({next->length, payload_room(), static_cast<std::uint32_t>(tx_.size()) - offset});
    send_segment(next->start, length, 0);
    board_->on_sent(tcp::NextSegment{next->start, length, next->rule});
}

void Pcb::send_tail_loss_probe() {
    // RFC 8985 7.3: new data if the window allows, else the last segment again, so the
    // receiver's SACK reveals what is missing and SACK recovery repairs it without an RTO.
    probe_pending_ = false;
    probe_sent_ = true;
    if (sack_recovery_active()) {
        probe_first_hole();
        retransmit_timer_.arm(host_.scheduler(), *this, now() + snd_.rto.rto());
        return;
    }
    const std::uint32_t before = snd_.max - snd_.una;
    limited_transmit();
    if (tcp::forward_distance(snd_.una, snd_.max) == before) {
        const std::uint32_t data_in_flight = std::min<std::uint32_t>(before, tx_.size());
        const std::uint32_t length = std::min(data_in_flight, payload_room());
        if (length > 0) send_segment(snd_.una + (data_in_flight - length), length, psh);
    }
    retransmit_timer_.arm(host_.scheduler(), *this, now() + snd_.rto.rto());
}

void Pcb::on_retransmit_timer() {
    const EngineConfig& config = host_.config();
    if (state_ == TcpState::syn_sent || state_ == TcpState::syn_received) {
        if (snd_.rto.backoff_count() >= config.max_syn_retransmits ||
            now() - opened_at_ >= config.connect_timeout) {
            give_up();
            return;
        }
        snd_.rto.on_timeout();
        ++rto_count;
        ++retransmits;
        snd_.nxt = snd_.iss;
        send_syn(state_ == TcpState::syn_received);
        arm_retransmit();
        return;
    }
    if (snd_.una == snd_.max) return;  // everything was acknowledged meanwhile
    if (reorder_pending_) {
        // RFC 8985 6.2: the reordering window after data above SND.UNA was SACKed is over and
        // SND.UNA is still missing: it is lost; recover now rather than at the probe or RTO.
        reorder_pending_ = false;
        if (may_enter_sack_recovery() && !board_->ranges().empty()) {
            enter_sack_recovery();
        } else {
            arm_retransmit();
        }
        return;
    }
    if (probe_pending_) {
        send_tail_loss_probe();
        return;
    }
    if (snd_.timeouts >= config.max_retransmits) {
        give_up();
        return;
    }
    // RFC 6298 5.5-5.6 and RFC 5681 3.1: back off, collapse cwnd, resend. ssthresh is held
    // when the same data timed out again and when a fast recovery already reduced it for
    // this loss (one reduction per loss event, RFC 6582 3.2 / RFC 6675 5).
    const bool repeated = snd_.timeouts > 0;
    snd_.cc.on_rto_timeout(snd_.max - snd_.una, now(), repeated || snd_.in_recovery);
    snd_.rto.on_timeout();
    ++snd_.timeouts;
    ++rto_count;
    snd_.in_recovery = false;
    snd_.recover_valid = true;
    snd_.recover = snd_.max;  // RFC 6582 4: no fast retransmit for what the RTO resends
    snd_.dup_acks = 0;
    snd_.timed_seq.reset();
    // Until the next timed segment, timed_at bounds the age of a timestamp echo that may stand
    // in for an RTT sample (take_rtt_sample): only an echo of what was sent since this timeout
    // times the path. An ACK of a duplicate echoes the TS.Recent of an older transmission (RFC
    // 7323 5.3 R2/R3); taken as a sample, an echo from before a run of backed-off RTOs put SRTT
    // at seconds (soak seeds 242 and 862).
    snd_.timed_at = now();
    if (sack_ok_ && snd_.nxt == snd_.max && snd_.wnd > 0 && !fin_sent()) {
        // With SACK, only the holes are resent (pcb_sack.cpp); the FIN, a zero window or a
        // rewound SND.NXT take the go-back-N path below.
        const std::uint64_t sent_before = stats_.segments_sent;
        enter_timeout_recovery();
        if (stats_.segments_sent == sent_before) retransmit_first();
        arm_retransmit();
        return;
    }
    // Go-back-N: everything after SND.UNA is sent again as the window reopens.
    // RFC 6675 5.1: the go-back-N resend skips what the peer SACKed, unless the same data
    // timed out again (then the SACK information is dropped, RFC 2018 8: the receiver may
    // have reneged).
    if (board_) {
        if (repeated) {
            board_->clear();
        } else {
            board_->end_recovery();
        }
    }
    release_scoreboard_if_idle();
    snd_.nxt = snd_.una;
    retransmit_first();
    arm_retransmit();
}

void Pcb::give_up() {
    enter_closed(soft_error_ != TcpError::none ? soft_error_ : TcpError::timed_out);
}

void Pcb::on_delayed_ack_timer() {
    if (state_ == TcpState::closed) return;
    send_ack_now();
}

void Pcb::on_persist_timer() {
    if (state_ == TcpState::closed || data_in_queue_after_nxt() == 0) return;
    if (snd_.nxt != snd_.una) return;  // data in flight: the retransmission timer covers it
    if (snd_.wnd == 0) {
        // RFC 1122 4.2.2.17 lets the window stay closed forever while the peer answers, but
        // a peer that stopped answering is gone (give up like the retransmission timer), and
        // an orphan nobody will ever read from is not worth more than kOrphanProbes probes
        // (Linux's tcp_orphan_retries cap does the same).
        constexpr std::uint32_t kOrphanProbes = 16;
        if (unanswered_probes_ >= host_.config().max_retransmits ||
            (user_closed_ && backoff_probes_ >= kOrphanProbes)) {
            give_up();
            return;
        }
        ++unanswered_probes_;
        // RFC 9293 3.8.6.1: probe with one byte of new data (tcp_common
        // zero_window_probe_length, as tcp_utcp does). SND.NXT stays (the byte lies past the
        // window and goes again with the data once the window opens); SND.MAX covers it, so an
        // ACK of it is acceptable if the window had in fact opened. The probe is neither timed
        // (its ACK may come after many probe intervals) nor counted as a retransmission.
        const std::uint32_t length = tcp::zero_window_probe_length(data_in_queue_after_nxt());
        const std::optional<SeqNum> timed_seq = snd_.timed_seq;
        const Time timed_at = snd_.timed_at;
        const std::uint64_t retransmits_before = retransmits;
        const bool last = length == data_in_queue_after_nxt();
        send_segment(snd_.nxt, length, last ? psh : 0);
        snd_.timed_seq = timed_seq;
        snd_.timed_at = timed_at;
        retransmits = retransmits_before;
        snd_.max = tcp::seq_max(snd_.max, snd_.nxt + length);
    } else {
        // A window too small for SWS avoidance (RFC 9293 3.8.6.2.1 override): send what fits.
        const std::uint32_t length =
            std::min({snd_.wnd, data_in_queue_after_nxt(), payload_room()});
        const SeqNum seq = snd_.nxt;
        const bool last = length == data_in_queue_after_nxt();
        const std::uint8_t flags =
            static_cast<std::uint8_t>((last ? psh : 0) | (last && fin_queued_ ? fin : 0));
        send_segment(seq, length, flags);
        snd_.nxt = seq + length + ((flags & fin) ? 1 : 0);
        snd_.max = tcp::seq_max(snd_.max, snd_.nxt);
        arm_retransmit();
        return;
    }
    // RFC 1122 4.2.2.17: the interval doubles per probe from the base RTO (tcp_common, as in
    // tcp_utcp).
    ++backoff_probes_;
    persist_timer_.arm(host_.scheduler(), *this,
                       now() + tcp::persist_interval(snd_.rto, backoff_probes_));
}

void Pcb::restart_keepalive() {
    const EngineConfig& config = host_.config();
    if (!config.keepalive) return;
    keepalive_timer_.arm(host_.scheduler(), *this, last_received_ + config.keepalive_idle);
}

void Pcb::on_keepalive_timer() {
    const EngineConfig& config = host_.config();
    if (state_ != TcpState::established && state_ != TcpState::close_wait) return;
    const Time idle = now() - last_received_;
    if (idle < config.keepalive_idle) {
        restart_keepalive();
        return;
    }
    if (keepalive_probes_ >= config.keepalive_count) {
        enter_closed(TcpError::timed_out);
        return;
    }
    ++keepalive_probes_;
    send_segment(snd_.una - 1, 0, 0);  // RFC 1122 4.2.3.6: SEQ.NXT - 1 draws an ACK
    keepalive_timer_.arm(host_.scheduler(), *this, now() + config.keepalive_interval);
}

void Pcb::on_time_wait_timer() {
    if (state_ == TcpState::time_wait || state_ == TcpState::fin_wait_2)
        enter_closed(TcpError::none);
}

}  // namespace netloom::classic
