// pcb_ack.cpp — what an acceptable ACK does on the send side: SND.UNA and the transmit queue,
// RTT samples (RFC 7323 4 timestamps, else one timed segment under Karn's rule, RFC 6298 3),
// congestion control (RFC 5681 slow start / avoidance through tcp_common), duplicate ACKs and
// NewReno fast retransmit / fast recovery (RFC 5681 3.2, RFC 6582), the send window update
// (RFC 9293 3.10.7.4 fifth check) and the retransmission timer (RFC 6298 5).
#include "netloom/tcp_common/window.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;
using tcp::ge;
using tcp::gt;
using tcp::le;
using tcp::lt;

void Pcb::process_ack(const Segment& seg) {
    const std::uint32_t new_window = tcp::decode_window(seg.window, snd_.scale);
    // RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": same ACK, no data, no SYN/FIN, same window, data
    // outstanding.
    const std::uint32_t newly_sacked = update_scoreboard(seg);
    bool duplicate = *seg.ack == snd_.una && seg.payload.empty() && !(seg.syn() || seg.fin()) &&
                     new_window == snd_.wnd && snd_.nxt != snd_.una;
    // RFC 6675 2: with SACK, an ACK at SND.UNA that SACKs new data counts as a duplicate too.
    if (board_ && *seg.ack == snd_.una && newly_sacked > 0 && snd_.max != snd_.una)
        duplicate = true;
    // Decided before SND.UNA moves: fin_seq() is counted from it.
    const bool acks_our_fin = fin_sent() && *seg.ack == fin_seq() + 1;
    if (gt(*seg.ack, snd_.una)) {
        handle_new_ack(seg, *seg.ack - snd_.una);
    } else if (duplicate) {
        handle_dup_ack();
    }
    // RFC 6675 5: IsLost(SND.UNA) also starts recovery before three duplicates (few ACKs
    // SACKing much); otherwise SACKed data above SND.UNA starts the reordering window (RFC 8985).
    if (may_enter_sack_recovery() && board_->is_lost(snd_.una)) {
        enter_sack_recovery();
    } else if (board_) {
        arm_reorder_window();
    }
    update_window(seg);
    if (acks_our_fin && state_ != TcpState::closed) on_our_fin_acked();
    release_scoreboard_if_idle();
}

void Pcb::update_window(const Segment& seg) {
    // RFC 9293 3.10.7.4: update only from a segment newer than the last one that did.
    if (lt(snd_.wl1, seg.seq) || (snd_.wl1 == seg.seq && le(snd_.wl2, *seg.ack))) {
        const std::uint32_t before = snd_.wnd;
        snd_.wnd = tcp::decode_window(seg.window, snd_.scale);
        snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
        snd_.max_wnd_after_syn = std::max(snd_.max_wnd_after_syn, snd_.wnd);
        snd_.wl1 = seg.seq;
        snd_.wl2 = *seg.ack;
        if (snd_.wnd > 0 && before == 0) {
            persist_timer_.stop();
            backoff_probes_ = 0;
        }
    }
}

void Pcb::take_rtt_sample(const Segment& seg, SeqNum previous_una) {
    // One new segment per round trip is timed by its send time (Karn, RFC 6298 3), timestamps
    // or not: their millisecond clock says 0 or 1 ms at sub-millisecond RTTs (Linux, too,
    // prefers its own send times). Echoes time what nothing else can: retransmissions.
    if (snd_.timed_seq) {
        if (gt(*seg.ack, *snd_.timed_seq) && ge(*snd_.timed_seq, previous_una)) {
            snd_.rto.on_rtt_sample(now() - snd_.timed_at);
            snd_.timed_seq.reset();
        }
        return;
    }
    // Nothing timed: only after a timeout (the RTO stays backed off until a sample) may an echo
    // stand in. Between two timed segments echoes would feed SRTT the 1 ms clock's 0 or 1 ms
    // once per ACK, and at sub-millisecond RTTs SRTT sat near 0 or 999 us.
    if (ts_ok_ && snd_.rto.backoff_count() > 0 && seg.options.timestamps &&
        seg.options.timestamps->echo != 0) {
        // RFC 7323 4.1: the echo identifies the transmission, so retransmissions may be timed.
        // An echo from the future or far past is ignored, and so is one from before the last
        // timeout (timed_at, set by on_retransmit_timer).
        const std::uint32_t elapsed_ms = ts_now() - seg.options.timestamps->echo;
        const auto since_timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(now() - snd_.timed_at).count();
        if (elapsed_ms < 60'000 && static_cast<std::int64_t>(elapsed_ms) <= since_timeout + 1)
            snd_.rto.on_rtt_sample(std::chrono::milliseconds(elapsed_ms));
    }
}

void Pcb::handle_new_ack(const Segment& seg, std::uint32_t acked) {
    const SeqNum previous = snd_.una;
    // The FIN takes a sequence number but no byte of the queue.
    std::uint32_t data_acked = std::min<std::uint32_t>(acked, tx_.size());
    tx_.consume(data_acked);
    stats_.bytes_acked += data_acked;
    snd_.una = *seg.ack;
    if (lt(snd_.nxt, snd_.una)) snd_.nxt = snd_.una;  // after a go-back-N rewind
    // Karn (RFC 6298 3 and 5): the backed-off RTO stays until take_rtt_sample() finds a
    // segment that was sent once (its sample recomputes the RTO); the ACK of a retransmission
    // ends only the run of timeouts that leads to giving up.
    take_rtt_sample(seg, previous);
    snd_.timeouts = 0;
    backoff_probes_ = 0;
    snd_.dup_acks = 0;
    probe_sent_ = false;
    soft_error_ = TcpError::none;  // progress: an earlier ICMP error no longer matters

    const std::uint32_t flight = flight_size();
    const auto grow_cwnd = [&] {
        tcp::AckSample sample;
        sample.acked_bytes = data_acked;
        sample.now = now();
        if (snd_.rto.has_sample()) sample.rtt = snd_.rto.srtt();
        sample.bytes_in_flight = flight;
        sample.window_in_use = snd_.cc.window_in_use(flight + data_acked);
        snd_.cc.on_ack(sample);
    };
    if (timeout_recovery_active()) {
        // RFC 6675 5.1: the recovery after an RTO slow-starts from the loss window and ends
        // once RecoveryPoint (SND.MAX at the timeout) is acknowledged.
        if (board_->recovery_point_reached()) board_->end_recovery();
        grow_cwnd();
    } else if (sack_recovery_active()) {
        // RFC 6675 5 step (A)/(C): recovery ends at RecoveryPoint; until then output() runs
        // NextSeg (cwnd stays at ssthresh: no deflation).
        if (board_->recovery_point_reached()) {
            board_->end_recovery();
            snd_.in_recovery = false;
            snd_.cc.exit_recovery(flight);
        } else if (!gt(board_->high_rxt(), snd_.una)) {
            // Everything resent so far is acknowledged while original transmissions below
            // RecoveryPoint are still missing: a later segment arrived, so they are lost
            // (RFC 8985 6.2); without this a partial ACK would leave them to the RTO.
            board_->declare_holes_lost();
        }
    } else if (snd_.in_recovery) {
        if (ge(*seg.ack, snd_.recover)) {
            // RFC 6582 3.2 step 3: a full acknowledgment ends recovery.
            snd_.in_recovery = false;
            snd_.cc.exit_recovery(flight);
        } else {
            // Step 4: a partial ACK retransmits the next hole and deflates the window.
            snd_.cc.on_partial_ack(data_acked);
            retransmit_first();
        }
    } else {
        grow_cwnd();
    }
    // RFC 6582 "recover" matters only until SND.UNA passes it: kept longer, sequence
    // comparison would put every ACK 2 GiB later "below recover" again and block recovery.
    if (snd_.recover_valid && !snd_.in_recovery && ge(snd_.una, snd_.recover))
        snd_.recover_valid = false;
    // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it.
    if (snd_.nxt == snd_.una && snd_.max == snd_.una) {
        retransmit_timer_.stop();
    } else {
        retransmit_timer_.arm(host_.scheduler(), *this, retransmit_deadline());
    }
    if (data_acked > 0 && (state_ == TcpState::established || state_ == TcpState::close_wait))
        host_.post_events(*this, kTcpWritable);
}

void Pcb::limited_transmit() {
    // RFC 3042: the first two duplicate ACKs each let one new segment out (beyond cwnd, within
    // the peer's window), so a small window still produces the three duplicates fast
    // retransmit needs.
    if (snd_.nxt != snd_.max || fin_sent()) return;
    const std::uint32_t queued = data_in_queue_after_nxt();
    const std::uint32_t flight = flight_size();
    if (queued == 0 || snd_.wnd <= flight) return;
    const std::uint32_t length = std::min({queued, payload_room(), snd_.wnd - flight});
    const SeqNum seq = snd_.nxt;
    send_segment(seq, length, length == queued ? psh : 0);
    snd_.nxt = seq + length;
    snd_.max = snd_.nxt;
    arm_retransmit();
}

void Pcb::handle_dup_ack() {
    ++snd_.dup_acks;
    ++stats_.dup_acks;
    if (snd_.dup_acks <= 2 && !snd_.in_recovery && !sack_recovery_active()) limited_transmit();
    if (board_) {
        // RFC 6675 5 step 4: three duplicates, or the scoreboard says SND.UNA is lost.
        if (may_enter_sack_recovery() && (snd_.dup_acks >= 3 || board_->is_lost(snd_.una)))
            enter_sack_recovery();
        return;
    }
    if (snd_.in_recovery) {
        // RFC 5681 3.2 step 4: each further duplicate inflates cwnd by one segment.
        snd_.cc.on_dup_ack();
        return;
    }
    if (snd_.dup_acks != 3) return;
    // RFC 6582 3.2 step 1: do not start a new recovery for losses of the previous window.
    if (snd_.recover_valid && lt(snd_.una, snd_.recover)) return;
    snd_.in_recovery = true;
    snd_.recover_valid = true;
    snd_.recover = snd_.max;
    snd_.cc.enter_recovery(flight_size(), now(), tcp::RecoveryStyle::newreno);
    ++fast_retransmits;
    retransmit_first();
    retransmit_timer_.arm(host_.scheduler(), *this, now() + snd_.rto.rto());
}

}  // namespace netloom::classic
