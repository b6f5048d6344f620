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
// it). D-SACK (RFC 2883) is not generated. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/tcp_common/seq.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::tcp {

class SackReceiver {
public:
    static constexpr std::size_t kCapacity = 8;

    /// Data [left, right) was queued out of order while RCV.NXT is `rcv_nxt`. Parts at or below
    /// rcv_nxt are ignored; an empty or inverted range does nothing.
    void on_out_of_order(SeqNum left, SeqNum right, SeqNum rcv_nxt) noexcept;
    /// RCV.NXT moved to `rcv_nxt` (in order data, possibly filling a hole): drop covered blocks.
    void on_advance(SeqNum rcv_nxt) noexcept;
    void clear() noexcept { count_ = 0; }

    std::size_t size() const noexcept { return count_; }
    /// Writes up to out.size() blocks, most recent first; returns how many.
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
};

}  // namespace netloom::tcp
