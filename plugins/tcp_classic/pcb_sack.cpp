// pcb_sack.cpp — the sender's SACK-based loss recovery (RFC 6675) over tcp_common's
// scoreboard: every ACK updates it; a duplicate ACK is also one that SACKs new data (RFC 6675 2);
// recovery starts on the third one or when IsLost(SND.UNA) (RFC 6675 5 step 4); during recovery
// the sender transmits what NextSeg chooses while pipe leaves a segment's room in cwnd, and
// leaves recovery when the cumulative ACK reaches RecoveryPoint. The scoreboard is allocated
// when the peer first SACKs something and freed once it holds nothing, so an idle connection
// does not pay for it.
#include <algorithm>

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
    return board_->on_ack(seg.ack, blocks, snd_.max);
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

void Pcb::enter_sack_recovery() {
    // RFC 6675 5 step 4: RecoveryPoint = HighData, ssthresh = cwnd = per the controller (the
    // CUBIC or Reno reduction; RecoveryStyle::sack keeps cwnd at ssthresh), then NextSeg.
    board_->begin_recovery(snd_.max);
    round_mark_ = snd_.max;
    snd_.in_recovery = true;
    snd_.recover_valid = true;
    snd_.recover = snd_.max;
    snd_.cc.enter_recovery(board_->pipe(snd_.max), now(), tcp::RecoveryStyle::sack);
    ++fast_retransmits;
    ++sack_recoveries;
    sack_output();
    retransmit_timer_.arm(host_.scheduler(), *this, now() + snd_.rto.rto());
}

void Pcb::check_lost_retransmissions() {
    // A retransmission can be lost too; RFC 6675 would wait for the RTO. When three segments
    // sent after this round of retransmissions began are SACKed while SND.UNA is still deemed
    // lost, the round's retransmissions are taken as lost and the holes are sent again
    // (HighRxt goes back to SND.UNA), as tcp_utcp and Linux's lost-retransmit detection do.
    if (!sack_recovery_active()) return;
    if (!gt(board_->highest_sacked(), round_mark_ + 3 * payload_room())) return;
    if (!board_->is_lost(snd_.una)) return;
    board_->begin_recovery(snd_.max);
    round_mark_ = snd_.max;
}

void Pcb::sack_output() {
    // RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg picks.
    const std::uint32_t room = payload_room();
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
        send_segment(segment.start, segment.length, 0);
        const tcp::SeqNum end = segment.start + segment.length;
        if (gt(end, snd_.max)) snd_.max = end;
        snd_.nxt = snd_.max;
        board_->on_sent(segment);
    }
}

}  // namespace netloom::classic
