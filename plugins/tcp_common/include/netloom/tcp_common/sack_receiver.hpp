// sack_receiver.hpp — the data receiver's SACK blocks (RFC 2018 4).
//
// Contract: the engine reports each segment it queued out of order (above RCV.NXT) and each
// advance of RCV.NXT. The list keeps disjoint, non-adjacent blocks [left, right) strictly above
// RCV.NXT, ordered by recency as Linux does: the block holding the most recently received segment
// first (RFC 2018 4: "the first SACK block MUST specify the contiguous block of data containing
// the segment which triggered this ACK"), then the others most recent first, which repeats each
// block in several ACKs in case some are lost. At most kCapacity blocks are remembered; when a new
// disjoint block arrives with the list full, the least recently touched one is forgotten (its data
// stays queued; the sender will just not hear about it again, which is safe: it may retransmit
// it).
// D-SACK (RFC 2883 4): when a segment repeats data the receiver already holds (below RCV.NXT, or
// inside a range queued out of order), the engine finds the first such contiguous part with
// find_duplicate() and hands it to on_duplicate(); the next ACK's first block reports it (rules
// 1 and 3), followed by the block containing it when it lies above RCV.NXT (rule 4), then the
// usual blocks (rule 5). The engine sends that ACK at once and calls on_ack_sent() after
// filling it, so each duplicate is reported once (rule 2); a newer duplicate replaces one not yet
// reported. The engine calls none of this unless SACK was negotiated. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "netloom/tcp_common/reassembly_buffer.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::tcp {

struct DuplicateRange {
    SeqNum left, right;  ///< [left, right)
    bool operator==(const DuplicateRange&) const = default;
};

/// RFC 2883 4 rule 3: the first contiguous part of segment data [left, right) that the receiver
/// already holds, either below `rcv_nxt` or inside one of `held` (the receive queue's
/// out-of-order ranges, offsets from rcv_nxt, sorted ascending). Nothing for an empty range.
std::optional<DuplicateRange> find_duplicate(
    SeqNum left, SeqNum right, SeqNum rcv_nxt,
    std::span<const ReassemblyBuffer::Range> held) noexcept;

class SackReceiver {
public:
    static constexpr std::size_t kCapacity = 8;

    /// Data [left, right) was queued out of order while RCV.NXT is `rcv_nxt`. Parts at or below
    /// rcv_nxt are ignored; an empty or inverted range does nothing.
    void on_out_of_order(SeqNum left, SeqNum right, SeqNum rcv_nxt) noexcept;
    /// RCV.NXT moved to `rcv_nxt` (in order data, possibly filling a hole): drop covered blocks.
    void on_advance(SeqNum rcv_nxt) noexcept;
    /// RFC 2883 4: `duplicate` (from find_duplicate) is reported as the first block of the next
    /// ACK, replacing any duplicate not yet reported. Its part above rcv_nxt also moves the
    /// block containing it first among the others (rule 4).
    void on_duplicate(DuplicateRange duplicate, SeqNum rcv_nxt) noexcept;
    /// An ACK carrying fill()'s blocks was sent: the D-SACK block is not repeated (rule 2).
    void on_ack_sent() noexcept { dsack_.reset(); }
    void clear() noexcept {
        count_ = 0;
        dsack_.reset();
    }

    /// Blocks above RCV.NXT (the D-SACK block not counted).
    std::size_t size() const noexcept { return count_; }
    bool dsack_pending() const noexcept { return dsack_.has_value(); }
    /// Blocks the next ACK reports: the D-SACK block, if pending, and the others.
    std::size_t report_size() const noexcept { return count_ + (dsack_ ? 1 : 0); }
    /// Writes up to out.size() blocks, the pending D-SACK block first, then the others most
    /// recent first; returns how many.
    std::size_t fill(std::span<wire::TcpSackBlock> out) const noexcept;
    /// Sets options.sack_blocks/sack_count (at most TcpOptions::kMaxSackBlocks; emit() drops what
    /// does not fit beside the other options, keeping the first, most recent, ones).
    void fill(wire::TcpOptions& options) const noexcept;

private:
    struct Block {
        SeqNum left, right;
    };
    void remove(std::size_t index) noexcept;

    std::array<Block, kCapacity> blocks_{};
    std::size_t count_ = 0;
    std::optional<DuplicateRange> dsack_;  ///< RFC 2883: to report in the next ACK
};

}  // namespace netloom::tcp
