// sack_scoreboard.cpp — RFC 6675 scoreboard, IsLost, SetPipe, NextSeg, recovery after a timeout
// and lost retransmissions (contract in the header).
#include "netloom/tcp_common/sack_scoreboard.hpp"

#include <algorithm>

namespace netloom::tcp {

SackScoreboard::SackScoreboard(SeqNum snd_una, std::uint32_t mss) noexcept
    : snd_una_(snd_una),
      mss_(mss == 0 ? 1 : mss),
      recovery_point_(snd_una),
      high_rxt_(snd_una),
      round_sacked_high_(snd_una),
      skip_from_(snd_una),
      skip_to_(snd_una) {}

void SackScoreboard::clear() noexcept {
    count_ = 0;
    in_recovery_ = false;
    after_timeout_ = false;
    high_rxt_ = snd_una_;
    rescue_rxt_.reset();
    reset_round();
}

void SackScoreboard::reset_round() noexcept {
    round_sacked_ = 0;
    round_sacked_high_ = snd_una_;
    skip_from_ = skip_to_ = snd_una_;
}

namespace {

/// Length of the intersection of [a, b) and [c, d) (all within one window, so modular order).
std::uint32_t overlap(SeqNum a, SeqNum b, SeqNum c, SeqNum d) noexcept {
    const SeqNum from = seq_max(a, c), to = seq_min(b, d);
    return lt(from, to) ? forward_distance(from, to) : 0;
}

}  // namespace

std::uint32_t SackScoreboard::sacked_in(SeqNum from, SeqNum to) const noexcept {
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < count_; ++i)
        total += overlap(from, to, ranges_[i].left, ranges_[i].right);
    return total;
}

std::uint32_t SackScoreboard::retransmitted_in(SeqNum from, SeqNum to) const noexcept {
    std::uint32_t total = overlap(from, to, snd_una_, high_rxt_);
    if (skip_active()) total += overlap(from, to, seq_max(skip_from_, high_rxt_), skip_to_);
    return total;
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
    if (!lt(snd_una_, skip_to_)) skip_from_ = skip_to_ = snd_una_;
    if (lt(round_sacked_high_, snd_una_)) round_sacked_high_ = snd_una_;
    // Only bytes still SACKed above the (new) first hole were resent after it.
    round_sacked_ = std::min(round_sacked_, sacked_in(snd_una_, high_rxt_));
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
    const std::uint32_t resent_before = in_recovery_ ? sacked_in(snd_una_, high_rxt_) : 0;
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
        left = seq_max(left, snd_una_);
        if (in_recovery_ && lt(left, high_rxt_)) {
            const std::uint32_t resent = sacked_in(snd_una_, high_rxt_);
            insert(left, right);
            // The block SACKed bytes resent in this round: remember how far up they reach.
            if (sacked_in(snd_una_, high_rxt_) > resent)
                round_sacked_high_ = seq_max(round_sacked_high_, seq_min(right, high_rxt_));
        } else {
            insert(left, right);
        }
    }
    if (in_recovery_) round_sacked_ += sacked_in(snd_una_, high_rxt_) - resent_before;
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
    after_timeout_ = false;
    recovery_point_ = snd_nxt;
    high_rxt_ = snd_una_;
    rescue_rxt_.reset();
    reset_round();
}

void SackScoreboard::begin_timeout_recovery(SeqNum snd_nxt) noexcept {
    begin_recovery(snd_nxt);
    after_timeout_ = true;
}

std::optional<SeqNum> SackScoreboard::lost_retransmissions_below() const noexcept {
    // The round began at SND.UNA, so the first hole was resent before anything SACKed since.
    if (!in_recovery_ || !gt(high_rxt_, snd_una_) || !gt(round_sacked_high_, snd_una_))
        return std::nullopt;
    if (std::uint64_t{round_sacked_} < std::uint64_t{kDupThresh} * mss_) return std::nullopt;
    return round_sacked_high_;
}

void SackScoreboard::restart_retransmissions(SeqNum up_to) noexcept {
    const SeqNum resent_end = skip_active() ? seq_max(high_rxt_, skip_to_) : high_rxt_;
    high_rxt_ = snd_una_;
    round_sacked_ = 0;
    round_sacked_high_ = snd_una_;
    // Holes between `up_to` and the end of the previous round keep their retransmission.
    if (lt(up_to, resent_end) && gt(up_to, snd_una_)) {
        skip_from_ = up_to;
        skip_to_ = resent_end;
    } else {
        skip_from_ = skip_to_ = snd_una_;
    }
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
            // After a timeout every unSACKed byte below RecoveryPoint is lost (RFC 8985 6.3).
            const std::uint32_t lost_by_timeout =
                in_recovery_ && after_timeout_ ? overlap(cursor, gap_end, snd_una_, recovery_point_)
                                               : 0;
            // (a) still in the network
            if (!lost_below(count_ - i, bytes_above)) total += gap - lost_by_timeout;
            // (b) bytes retransmitted in this recovery are in the network (again).
            total += retransmitted_in(cursor, gap_end);
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
    const bool after_timeout = in_recovery_ && after_timeout_;
    // The first byte of a hole not yet resent in this round (skipping the previous round's
    // retransmissions still in flight), and how much of the hole may go in one segment.
    auto resend_from = [&](SeqNum hole_start) {
        SeqNum start = seq_max(hole_start, high_rxt_);
        if (skip_active() && ge(start, skip_from_) && lt(start, skip_to_)) start = skip_to_;
        return start;
    };
    auto resend_length = [&](SeqNum start, SeqNum hole_end) {
        std::uint32_t length = std::min(mss_, forward_distance(start, hole_end));
        if (skip_active() && lt(start, skip_from_))
            length = std::min(length, forward_distance(start, skip_from_));
        return length;
    };
    for (std::size_t i = 0; i < count_; ++i) {
        const SeqNum start = resend_from(cursor);
        if (lt(start, ranges_[i].left)) {
            const std::uint32_t length = resend_length(start, ranges_[i].left);
            const bool lost = lost_below(count_ - i, bytes_above) ||
                              (after_timeout && lt(start, recovery_point_));
            if (lost) {  // 1.c: rule 1
                return NextSegment{start, length, NextSegRule::lost_retransmit};
            }
            if (!first_hole) first_hole = NextSegment{start, length, NextSegRule::hole_retransmit};
        }
        bytes_above -= ranges_[i].length();
        cursor = ranges_[i].right;
    }
    if (after_timeout) {  // rule 1 for the unSACKed tail below RecoveryPoint (lost by the RTO)
        const SeqNum start = resend_from(cursor);
        const SeqNum end = seq_min(snd_nxt, recovery_point_);
        if (lt(start, end))
            return NextSegment{start, resend_length(start, end), NextSegRule::lost_retransmit};
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
