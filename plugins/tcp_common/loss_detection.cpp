// loss_detection.cpp — RACK-style reordering window, probe timeout and lost-retransmission
// detection (see loss_detection.hpp for the contract).
#include "netloom/tcp_common/loss_detection.hpp"

#include <algorithm>

namespace netloom::tcp {

Duration reorder_window(const RtoEstimator& rto) noexcept {
    const Duration window = std::min(rto.min_rtt() / 4, rto.srtt());
    return std::max(window, kMinReorderWindow);
}

Duration probe_timeout(const RtoEstimator& rto, bool one_segment_in_flight,
                       Duration delayed_ack_allowance) noexcept {
    Duration pto = 2 * rto.srtt();
    if (one_segment_in_flight) pto += delayed_ack_allowance;
    return std::max(pto, kMinProbeTimeout);
}

bool restart_lost_retransmissions(SackScoreboard& board, SeqNum snd_una, SeqNum snd_max,
                                  SeqNum& rxt_fence, std::uint32_t smss) noexcept {
    if (!board.in_recovery() || !gt(board.high_rxt(), snd_una)) return false;
    if (const auto lost_below = board.lost_retransmissions_below()) {
        board.restart_retransmissions(*lost_below);
        rxt_fence = snd_max;
        return true;
    }
    std::uint64_t sacked_after_fence = 0;
    for (const SeqRange& range : board.ranges()) {
        if (gt(range.right, rxt_fence))
            sacked_after_fence += forward_distance(seq_max(range.left, rxt_fence), range.right);
    }
    if (sacked_after_fence < std::uint64_t{SackScoreboard::kDupThresh} * smss) return false;
    const SeqNum first_hole = board.ranges().empty() ? snd_max : board.ranges()[0].left;
    if (!lt(snd_una, first_hole)) return false;  // SND.UNA itself SACKed: nothing to redo
    board.restart_retransmissions(board.high_rxt());
    rxt_fence = snd_max;
    return true;
}

}  // namespace netloom::tcp
