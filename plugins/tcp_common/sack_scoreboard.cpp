// sack_scoreboard.cpp — RFC 6675 scoreboard, IsLost, SetPipe, NextSeg (contract in the header).
#include "netloom/tcp_common/sack_scoreboard.hpp"

#include <algorithm>

namespace netloom::tcp {

SackScoreboard::SackScoreboard(SeqNum snd_una, std::uint32_t mss) noexcept
    : snd_una_(snd_una), mss_(mss == 0 ? 1 : mss), recovery_point_(snd_una), high_rxt_(snd_una) {}

void SackScoreboard::clear() noexcept {
    count_ = 0;
    in_recovery_ = false;
    high_rxt_ = snd_una_;
    rescue_rxt_.reset();
}

std::uint32_t SackScoreboard::sacked_bytes() const noexcept {
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < count_; ++i) total += ranges_[i].length();
    return total;
}

bool SackScoreboard::is_sacked(SeqNum seq) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        if (in_window(seq, ranges_[i].left, ranges_[i].length())) return true;
    }
    return false;
}

SeqNum SackScoreboard::highest_sacked() const noexcept {
    return count_ == 0 ? snd_una_ : ranges_[count_ - 1].right;
}

void SackScoreboard::advance_una(SeqNum ack) noexcept {
    if (!gt(ack, snd_una_)) return;
    snd_una_ = ack;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        SeqRange range = ranges_[i];
        if (le(range.right, ack)) continue;  // fully acknowledged: discard (RFC 6675 5 step C)
        range.left = seq_max(range.left, ack);
        ranges_[kept++] = range;
    }
    count_ = kept;
    high_rxt_ = seq_max(high_rxt_, ack);
}

void SackScoreboard::insert(SeqNum left, SeqNum right) noexcept {
    // Ranges are sorted by left edge; every edge lies in [SND.UNA, SND.NXT], less than 2^31
    // apart, so the modular comparisons below are a total order here.
    std::size_t first = 0;
    while (first < count_ && lt(ranges_[first].right, left)) ++first;
    std::size_t last = first;  // one past the last range that overlaps or touches [left, right)
    while (last < count_ && le(ranges_[last].left, right)) ++last;
    if (first == last) {
        if (count_ == kMaxRanges) {
            ++counters_.blocks_dropped;
            return;
        }
        for (std::size_t i = count_; i > first; --i) ranges_[i] = ranges_[i - 1];
        ranges_[first] = SeqRange{left, right};
        ++count_;
        return;
    }
    ranges_[first].left = seq_min(ranges_[first].left, left);
    ranges_[first].right = seq_max(ranges_[last - 1].right, right);
    const std::size_t removed = last - first - 1;
    for (std::size_t i = last; i < count_; ++i) ranges_[i - removed] = ranges_[i];
    count_ -= removed;
}

std::uint32_t SackScoreboard::on_ack(SeqNum ack, std::span<const wire::TcpSackBlock> blocks,
                                     SeqNum snd_nxt) noexcept {
    advance_una(ack);
    const std::uint32_t before = sacked_bytes();
    for (const wire::TcpSackBlock& block : blocks) {
        SeqNum left(block.left), right(block.right);
        if (!lt(left, right) || gt(right, snd_nxt) || gt(left, snd_nxt)) {
            ++counters_.blocks_bogus;
            continue;
        }
        if (le(right, snd_una_)) {
            ++counters_.blocks_stale;
            continue;
        }
        ++counters_.blocks_accepted;
        insert(seq_max(left, snd_una_), right);
    }
    return sacked_bytes() - before;
}

bool SackScoreboard::lost_below(std::size_t ranges_above,
                                std::uint32_t bytes_above) const noexcept {
    // RFC 6675 4 IsLost: DupThresh discontiguous SACKed sequences above, or more than
    // (DupThresh - 1) * SMSS SACKed bytes above.
    return ranges_above >= kDupThresh ||
           std::uint64_t{bytes_above} > std::uint64_t{kDupThresh - 1} * mss_;
}

bool SackScoreboard::is_lost(SeqNum seq) const noexcept {
    std::size_t ranges_above = 0;
    std::uint32_t bytes_above = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        const SeqRange& range = ranges_[i];
        if (gt(range.left, seq)) {
            ++ranges_above;
            bytes_above += range.length();
        } else if (gt(range.right, seq + 1)) {
            bytes_above += forward_distance(seq + 1, range.right);  // seq inside a SACKed range
        }
    }
    return lost_below(ranges_above, bytes_above);
}

void SackScoreboard::begin_recovery(SeqNum snd_nxt) noexcept {
    in_recovery_ = true;
    recovery_point_ = snd_nxt;
    high_rxt_ = snd_una_;
    rescue_rxt_.reset();
}

std::uint32_t SackScoreboard::pipe(SeqNum snd_nxt) const noexcept {
    // Walk the unSACKed gaps below, between and above the ranges. Inside one gap every byte has
    // the same SACKed data above it, so IsLost is constant per gap.
    std::uint64_t total = 0;
    std::uint32_t bytes_above = sacked_bytes();
    SeqNum cursor = snd_una_;
    for (std::size_t i = 0; i <= count_; ++i) {
        const SeqNum gap_end = i < count_ ? ranges_[i].left : seq_max(snd_nxt, cursor);
        const std::uint32_t gap = forward_distance(cursor, gap_end);
        if (gap > 0) {
            if (!lost_below(count_ - i, bytes_above)) total += gap;  // (a) still in the network
            // (b) bytes retransmitted in this recovery are in the network (again).
            if (gt(high_rxt_, cursor)) {
                total += forward_distance(cursor, seq_min(high_rxt_, gap_end));
            }
        }
        if (i < count_) {
            bytes_above -= ranges_[i].length();
            cursor = ranges_[i].right;
        }
    }
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(total, UINT32_MAX));
}

std::optional<NextSegment> SackScoreboard::next_segment(
    SeqNum snd_nxt, std::uint32_t new_data_allowed) const noexcept {
    // Holes below the highest SACKed byte, from HighRxt on (criteria 1.a and 1.b).
    std::optional<NextSegment> first_hole;
    std::uint32_t bytes_above = sacked_bytes();
    SeqNum cursor = snd_una_;
    for (std::size_t i = 0; i < count_; ++i) {
        const SeqNum start = seq_max(cursor, high_rxt_);
        if (lt(start, ranges_[i].left)) {
            const std::uint32_t length = std::min(mss_, forward_distance(start, ranges_[i].left));
            if (lost_below(count_ - i, bytes_above)) {  // 1.c: rule 1
                return NextSegment{start, length, NextSegRule::lost_retransmit};
            }
            if (!first_hole) first_hole = NextSegment{start, length, NextSegRule::hole_retransmit};
        }
        bytes_above -= ranges_[i].length();
        cursor = ranges_[i].right;
    }
    if (new_data_allowed > 0) {  // rule 2
        return NextSegment{snd_nxt, std::min(mss_, new_data_allowed), NextSegRule::new_data};
    }
    if (first_hole) return first_hole;  // rule 3
    // Rule 4: one rescue retransmission per recovery, ending at the highest unSACKed byte.
    if (in_recovery_ && (!rescue_rxt_ || gt(snd_una_, *rescue_rxt_))) {
        SeqNum hole_start = snd_una_, hole_end = snd_una_;
        cursor = snd_una_;
        for (std::size_t i = 0; i <= count_; ++i) {
            const SeqNum end = i < count_ ? ranges_[i].left : snd_nxt;
            if (lt(cursor, end)) {
                hole_start = cursor;
                hole_end = end;
            }
            if (i < count_) cursor = ranges_[i].right;
        }
        const std::uint32_t hole = forward_distance(hole_start, hole_end);
        if (hole > 0) {
            const std::uint32_t length = std::min(mss_, hole);
            return NextSegment{hole_end - length, length, NextSegRule::rescue_retransmit};
        }
    }
    return std::nullopt;
}

void SackScoreboard::on_sent(const NextSegment& segment) noexcept {
    switch (segment.rule) {
        case NextSegRule::lost_retransmit:
        case NextSegRule::hole_retransmit:
            high_rxt_ = seq_max(high_rxt_, segment.start + segment.length);
            break;
        case NextSegRule::rescue_retransmit:
            rescue_rxt_ = recovery_point_;  // RFC 6675 4 rule 4; HighRxt is not updated
            break;
        case NextSegRule::new_data: break;
    }
}

}  // namespace netloom::tcp
