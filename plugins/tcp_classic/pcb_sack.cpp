// pcb_sack.cpp — the sender's SACK-based loss recovery (RFC 6675) over tcp_common's
// scoreboard: every ACK updates it; a duplicate ACK is also one that SACKs new data (RFC 6675 2);
// recovery starts on the third one or when IsLost(SND.UNA) (RFC 6675 5 step 4); during recovery
// the sender transmits what NextSeg chooses while pipe leaves a segment's room in cwnd, and
// leaves recovery when the cumulative ACK reaches RecoveryPoint. RACK-style additions (RFC 8985,
// through tcp_common/loss_detection): a reordering-window timer starts recovery when SACKed
// data sits above SND.UNA for longer than the window (too few duplicates for DupThresh), lost
// retransmissions restart the round of hole retransmissions, and after an RTO only the holes
// are resent (RFC 6675 5.1). The scoreboard is allocated
// when the peer first SACKs something and freed once it holds nothing, so an idle connection
// does not pay for it.
#include <algorithm>

#include "netloom/tcp_common/loss_detection.hpp"
#include "pcb.hpp"

namespace netloom::classic {

using namespace wire::tcp_flag;
using tcp::gt;
using tcp::lt;

std::uint32_t Pcb::update_scoreboard(const Segment& seg) {
    if (!sack_ok_) return 0;
    if (!board_) {
        if (seg.options.sack_count == 0) return 0;
        board_ = std::make_unique<tcp::SackScoreboard>(snd_.una, payload_room());
    }
    const std::span<const wire::TcpSackBlock> blocks(seg.options.sack_blocks.data(),
                                                     seg.options.sack_count);
    return board_->on_ack(*seg.ack, blocks, snd_.max);
}

void Pcb::release_scoreboard_if_idle() noexcept {
    if (board_ && !board_->in_recovery() && board_->ranges().empty()) board_.reset();
}

void Pcb::skip_sacked(std::uint32_t& length) noexcept {
    if (!board_ || !lt(snd_.nxt, snd_.max)) return;
    for (const tcp::SeqRange& range : board_->ranges()) {  // sorted, disjoint, non-adjacent
        if (tcp::le(range.left, snd_.nxt) && lt(snd_.nxt, range.right)) {
            snd_.nxt = range.right;
        } else if (gt(range.left, snd_.nxt)) {
            length = std::min<std::uint32_t>(length, range.left - snd_.nxt);
            return;
        }
    }
}

bool Pcb::may_enter_sack_recovery() const noexcept {
    // RFC 6582 3.2 step 1 (and RFC 6675 5.1 after an RTO): not while SND.UNA is still below
    // the data of the previous recovery.
    return sack_ok_ && board_ && !snd_.in_recovery && !board_->in_recovery() &&
           snd_.nxt == snd_.max && snd_.una != snd_.max &&
           !(snd_.recover_valid && lt(snd_.una, snd_.recover));
}

void Pcb::enter_sack_recovery() {
    // RFC 6675 5 step 4: RecoveryPoint = HighData, ssthresh = cwnd = per the controller (the
    // CUBIC or Reno reduction; RecoveryStyle::sack keeps cwnd at ssthresh).
    board_->begin_recovery(snd_.max);
    rxt_fence_ = snd_.max;
    reorder_pending_ = false;
    probe_sent_ = false;  // a new loss event: its first hole may be probed (RFC 8985 7)
    snd_.in_recovery = true;
    snd_.recover_valid = true;
    snd_.recover = snd_.max;
    // RFC 6675 (4.2) / RFC 5681 (4): ssthresh from FlightSize, not from pipe (which leaves out
    // what was SACKed and would cut deeper the more the peer reported).
    snd_.cc.enter_recovery(flight_size(), now(), tcp::RecoveryStyle::sack);
    ++fast_retransmits;
    ++sack_recoveries;
    // (4.3): retransmit the first segment presumed lost, SND.UNA up to the first SACKed byte,
    // whatever NextSeg would pick (it may not deem it lost yet after a reordering window).
    std::uint32_t length = std::min<std::uint32_t>(payload_room(), tx_.size());
    if (!board_->ranges().empty())
        length = std::min(length, tcp::forward_distance(snd_.una, board_->ranges()[0].left));
    if (length > 0) {
        send_segment(snd_.una, length, 0);
        board_->on_sent(tcp::NextSegment{snd_.una, length, tcp::NextSegRule::lost_retransmit});
    }
    // (4.4): then what pipe allows (step C).
    sack_output();
    retransmit_timer_.arm(host_.scheduler(), *this, retransmit_deadline());
}

void Pcb::enter_timeout_recovery() {
    // RFC 6675 5.1: after an RTO keep using the SACK information. Everything unSACKed below
    // SND.MAX counts as lost (RFC 8985 6.3) and is resent hole by hole under the loss window;
    // SACKed data is never sent again, and later SACKs reveal lost retransmissions. RFC 2018 8:
    // when the same data times out again the receiver may have reneged, so the information
    // is dropped then (every byte from SND.UNA becomes a hole).
    if (!board_ || snd_.timeouts > 1)
        board_ = std::make_unique<tcp::SackScoreboard>(snd_.una, payload_room());
    board_->begin_timeout_recovery(snd_.max);
    rxt_fence_ = snd_.max;
    sack_output();
}

void Pcb::arm_reorder_window() {
    if (reorder_pending_ || !snd_.rto.has_sample() || !may_enter_sack_recovery() ||
        board_->ranges().empty())
        return;
    const Time deadline = now() + tcp::reorder_window(snd_.rto);
    if (const auto current = retransmit_timer_.deadline(); current && *current <= deadline) return;
    retransmit_timer_.arm(host_.scheduler(), *this, deadline);
    probe_pending_ = false;
    reorder_pending_ = true;
}

void Pcb::sack_output() {
    // RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg picks.
    const std::uint32_t room = payload_room();
    // Lost retransmissions are resent now rather than after the RTO and its backoff.
    tcp::restart_lost_retransmissions(*board_, snd_.una, snd_.max, rxt_fence_, room);
    for (int guard = 0; guard < 1024; ++guard) {
        const std::uint32_t pipe = board_->pipe(snd_.max);
        const std::uint32_t cwnd = snd_.cc.cwnd();
        if (pipe >= cwnd || cwnd - pipe < room) break;
        // New data the peer's window allows beyond SND.MAX (NextSeg rule 2).
        const std::uint32_t sent = snd_.max - snd_.una;
        const std::uint32_t unsent = sent >= tx_.size() ? 0 : tx_.size() - sent;
        const std::uint32_t window_left = snd_.wnd > sent ? snd_.wnd - sent : 0;
        const auto next = board_->next_segment(snd_.max, std::min(unsent, window_left));
        if (!next) break;
        tcp::NextSegment segment = *next;
        // Never past the queued data (the FIN is sent by the normal path after recovery).
        const std::uint32_t offset = segment.start - snd_.una;
        if (offset >= tx_.size()) break;
        segment.length = std::min({segment.length, room, tx_.size() - offset});
        if (segment.length == 0) break;
        // RFC 1122 4.2.2.2: PSH on the segment that empties the transmit queue, as output()
        // sets it outside recovery.
        const bool last = offset + segment.length == tx_.size();
        send_segment(segment.start, segment.length, last ? psh : 0);
        const tcp::SeqNum end = segment.start + segment.length;
        if (gt(end, snd_.max)) snd_.max = end;
        snd_.nxt = snd_.max;
        board_->on_sent(segment);
    }
}

}  // namespace netloom::classic
