// sack_scoreboard.hpp — the data sender's SACK scoreboard and RFC 6675 loss recovery helpers.
//
// Contract: the scoreboard covers the retransmission queue [SND.UNA, SND.NXT) (HighACK + 1 ..
// HighData in RFC 6675 terms) and records which byte ranges the peer SACKed, as up to kMaxRanges
// sorted, disjoint, non-adjacent ranges. SACK information is advisory (RFC 2018 8, RFC 6675 5.1):
//   - a block that is empty or inverted, or reaches past SND.NXT, is ignored and counted as bogus
//     (the receiver may be broken or lying, RFC 2018 / RFC 6675 6);
//   - a block entirely at or below SND.UNA is ignored and counted as stale (a D-SACK, RFC 2883, or
//     a reordered old ACK); one straddling SND.UNA is trimmed to it;
//   - when a new disjoint range arrives with kMaxRanges already held, it is ignored and counted.
//     Forgetting SACK information is always safe: the data is merely treated as not received
//     (possibly retransmitted needlessly); inventing it (merging two ranges over a hole) could
//     leave a hole unrepaired until the RTO, so the scoreboard never merges across a hole.
// Recovery state per RFC 6675 2: RecoveryPoint, HighRxt and RescueRxt. HighRxt is kept as the
// sequence number just past the highest retransmitted byte (so "S1 <= HighRxt" in the RFC's
// inclusive wording is `S1 < high_rxt()` here); it starts at SND.UNA when recovery begins.
// IsLost(S) (RFC 6675 4) is true when at least DupThresh disjoint SACKed ranges lie wholly above
// S, or more than (DupThresh - 1) * SMSS SACKed bytes lie above S. SetPipe and NextSeg follow
// RFC 6675 4 and work gap by gap, so their cost is O(ranges), not O(bytes). next_segment is const;
// the engine calls on_sent for what it actually sent (it updates HighRxt or RescueRxt).
// Recovery after a retransmission timeout (begin_timeout_recovery, RFC 6675 5.1 / RFC 8985 6.3):
// every unSACKed byte below RecoveryPoint counts as lost, so NextSeg resends the holes only.
// Lost retransmissions (lost_retransmissions_below / restart_retransmissions): the holes of one
// round are resent in ascending order, so SACKs for DupThresh * SMSS of bytes resent later in
// the round, while the first hole is still missing, say its retransmission was lost too.
// No allocation; the object is a plain copyable value (about 350 bytes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "netloom/tcp_common/seq.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::tcp {

struct SeqRange {
    SeqNum left;   ///< first byte
    SeqNum right;  ///< one past the last byte
    std::uint32_t length() const noexcept { return forward_distance(left, right); }
    bool operator==(const SeqRange&) const = default;
};

/// Which NextSeg rule (RFC 6675 4) chose a segment.
enum class NextSegRule : std::uint8_t {
    lost_retransmit = 1,    ///< rule 1: the first lost, not yet retransmitted hole
    new_data = 2,           ///< rule 2: previously unsent data
    hole_retransmit = 3,    ///< rule 3: a hole below the highest SACK, not (yet) deemed lost
    rescue_retransmit = 4,  ///< rule 4: one rescue retransmission of the highest unSACKed data
};

struct NextSegment {
    SeqNum start;
    std::uint32_t length = 0;
    NextSegRule rule = NextSegRule::lost_retransmit;
};

struct SackScoreboardCounters {
    std::uint64_t blocks_accepted = 0;
    std::uint64_t blocks_bogus = 0;    ///< empty, inverted, or beyond SND.NXT
    std::uint64_t blocks_stale = 0;    ///< at or below SND.UNA (D-SACK or old)
    std::uint64_t blocks_dropped = 0;  ///< ignored because kMaxRanges ranges were held
};

class SackScoreboard {
public:
    /// 32 disjoint ranges: 32 holes in one window is already a pathological loss pattern; each
    /// range costs 8 bytes per connection.
    static constexpr std::size_t kMaxRanges = 32;
    static constexpr std::uint32_t kDupThresh = 3;  // RFC 6675 2

    SackScoreboard(SeqNum snd_una, std::uint32_t mss) noexcept;

    /// Process one ACK: the cumulative acknowledgment (ignored unless it advances SND.UNA) and
    /// its SACK blocks, with SND.NXT as it is now. Returns the bytes newly SACKed.
    std::uint32_t on_ack(SeqNum ack, std::span<const wire::TcpSackBlock> blocks,
                         SeqNum snd_nxt) noexcept;
    /// Forget all SACK information (after an RTO, RFC 6675 5.1 / RFC 2018 8) and leave recovery.
    void clear() noexcept;
    void set_mss(std::uint32_t mss) noexcept { mss_ = mss == 0 ? 1 : mss; }

    SeqNum snd_una() const noexcept { return snd_una_; }
    std::span<const SeqRange> ranges() const noexcept { return {ranges_.data(), count_}; }
    std::uint32_t sacked_bytes() const noexcept;
    bool is_sacked(SeqNum seq) const noexcept;
    /// One past the highest SACKed byte, or SND.UNA when nothing is SACKed.
    SeqNum highest_sacked() const noexcept;
    /// RFC 6675 4 IsLost(seq).
    bool is_lost(SeqNum seq) const noexcept;

    // --- RFC 6675 5 recovery state ---
    /// Enter loss recovery: RecoveryPoint = HighData (snd_nxt), HighRxt = HighACK, RescueRxt unset.
    void begin_recovery(SeqNum snd_nxt) noexcept;
    /// Enter recovery after a retransmission timeout: as begin_recovery, and every unSACKed byte
    /// below RecoveryPoint is lost (RFC 8985 6.3: it was all sent at least an RTO ago), so
    /// NextSeg resends the holes in order, never SACKed data, and SetPipe counts only what was
    /// resent (RFC 6675 5.1: use the SACK information in the recovery following an RTO).
    void begin_timeout_recovery(SeqNum snd_nxt) noexcept;
    void end_recovery() noexcept {
        in_recovery_ = false;
        after_timeout_ = false;
    }
    bool after_timeout() const noexcept { return in_recovery_ && after_timeout_; }
    /// During recovery, declare every unSACKed byte below RecoveryPoint lost, as after a
    /// timeout: the engine saw a retransmission delivered (cumulatively ACKed) while older
    /// original transmissions are still missing (RFC 8985 6.2: a segment sent later arrived).
    void declare_holes_lost() noexcept {
        if (in_recovery_) after_timeout_ = true;
    }
    /// Lost retransmissions: when DupThresh * SMSS bytes retransmitted in this round (so after
    /// the first hole's retransmission) were SACKed while SND.UNA is still missing, the holes
    /// below the highest such byte had their retransmissions lost too (the DupThresh form of
    /// RFC 8985 6.2's "a segment sent later was delivered"). Returns that byte, or nothing.
    std::optional<SeqNum> lost_retransmissions_below() const noexcept;
    /// Start a new round of hole retransmissions at SND.UNA (HighRxt = SND.UNA). Holes in
    /// [up_to, HighRxt) keep their retransmission of the previous round as in flight (skipped
    /// by NextSeg, counted by SetPipe); `up_to` >= HighRxt resends every hole again.
    void restart_retransmissions(SeqNum up_to) noexcept;
    bool in_recovery() const noexcept { return in_recovery_; }
    /// A cumulative ACK at or beyond RecoveryPoint ends recovery (RFC 6675 5 step C).
    bool recovery_point_reached() const noexcept { return ge(snd_una_, recovery_point_); }
    SeqNum recovery_point() const noexcept { return recovery_point_; }
    SeqNum high_rxt() const noexcept { return high_rxt_; }
    std::optional<SeqNum> rescue_rxt() const noexcept { return rescue_rxt_; }

    /// RFC 6675 4 SetPipe: bytes estimated in the network, with SND.NXT = HighData + 1.
    std::uint32_t pipe(SeqNum snd_nxt) const noexcept;
    /// RFC 6675 4 NextSeg. `new_data_allowed`: unsent bytes the engine may send now (queued data
    /// within the peer's window); 0 disables rule 2.
    std::optional<NextSegment> next_segment(SeqNum snd_nxt,
                                            std::uint32_t new_data_allowed) const noexcept;
    /// The engine sent `segment` (as returned by next_segment, possibly shortened).
    void on_sent(const NextSegment& segment) noexcept;

    const SackScoreboardCounters& counters() const noexcept { return counters_; }

private:
    void advance_una(SeqNum ack) noexcept;
    void insert(SeqNum left, SeqNum right) noexcept;
    bool lost_below(std::size_t ranges_above, std::uint32_t bytes_above) const noexcept;
    /// SACKed bytes inside [from, to).
    std::uint32_t sacked_in(SeqNum from, SeqNum to) const noexcept;
    /// Bytes of [from, to) retransmitted and not known lost: [SND.UNA, HighRxt) and the skip.
    std::uint32_t retransmitted_in(SeqNum from, SeqNum to) const noexcept;
    bool skip_active() const noexcept {
        return lt(high_rxt_, skip_to_) && lt(skip_from_, skip_to_);
    }
    void reset_round() noexcept;

    std::array<SeqRange, kMaxRanges> ranges_{};
    std::size_t count_ = 0;
    SeqNum snd_una_;
    std::uint32_t mss_;
    bool in_recovery_ = false;
    SeqNum recovery_point_;
    SeqNum high_rxt_;
    std::optional<SeqNum> rescue_rxt_;
    bool after_timeout_ = false;  ///< begin_timeout_recovery: holes below RecoveryPoint are lost
    std::uint32_t round_sacked_ = 0;  ///< bytes below HighRxt SACKed since this round began
    SeqNum round_sacked_high_;        ///< highest such byte (one past it)
    SeqNum skip_from_, skip_to_;      ///< previous round's retransmissions still in flight
    SackScoreboardCounters counters_;
};

}  // namespace netloom::tcp
