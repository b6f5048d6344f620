// sack_receiver.cpp — recency-ordered SACK blocks (contract in sack_receiver.hpp).
#include "netloom/tcp_common/sack_receiver.hpp"

#include <algorithm>

namespace netloom::tcp {

std::optional<DuplicateRange> find_duplicate(
    SeqNum left, SeqNum right, SeqNum rcv_nxt,
    std::span<const ReassemblyBuffer::Range> held) noexcept {
    if (!lt(left, right)) return std::nullopt;
    // RFC 2883 4.1.1: data at or below the cumulative ACK (this part comes first in sequence).
    if (lt(left, rcv_nxt)) return DuplicateRange{left, seq_min(right, rcv_nxt)};
    // RFC 2883 4.1.2 / 4.1.3: data already queued out of order.
    for (const ReassemblyBuffer::Range& range : held) {
        const SeqNum begin = rcv_nxt + range.begin;
        const SeqNum end = rcv_nxt + range.end;
        if (le(end, left)) continue;
        if (ge(begin, right)) break;
        return DuplicateRange{seq_max(left, begin), seq_min(right, end)};
    }
    return std::nullopt;
}

void SackReceiver::remove(std::size_t index) noexcept {
    for (std::size_t i = index + 1; i < count_; ++i) blocks_[i - 1] = blocks_[i];
    --count_;
}

void SackReceiver::on_out_of_order(SeqNum left, SeqNum right, SeqNum rcv_nxt) noexcept {
    if (!lt(left, right) || le(right, rcv_nxt)) return;
    left = seq_max(left, rcv_nxt);
    // Absorb every block this one overlaps or touches, so blocks stay disjoint and the merged
    // block (which contains the newest segment) goes first.
    for (std::size_t i = 0; i < count_;) {
        const Block& b = blocks_[i];
        if (le(b.left, right) && ge(b.right, left)) {
            left = seq_min(left, b.left);
            right = seq_max(right, b.right);
            remove(i);
        } else {
            ++i;
        }
    }
    const std::size_t kept = std::min(count_, kCapacity - 1);  // forget the oldest when full
    for (std::size_t i = kept; i > 0; --i) blocks_[i] = blocks_[i - 1];
    blocks_[0] = Block{left, right};
    count_ = kept + 1;
}

void SackReceiver::on_duplicate(DuplicateRange duplicate, SeqNum rcv_nxt) noexcept {
    if (!lt(duplicate.left, duplicate.right)) return;
    dsack_ = duplicate;
    // Rule 4: the (possibly larger) block holding the duplicate goes right after it. The data is
    // queued, so treating it like a newly queued segment moves its block first (or restores the
    // block if it had been forgotten at capacity).
    on_out_of_order(duplicate.left, duplicate.right, rcv_nxt);
}

void SackReceiver::on_advance(SeqNum rcv_nxt) noexcept {
    for (std::size_t i = 0; i < count_;) {
        Block& b = blocks_[i];
        if (le(b.right, rcv_nxt)) {
            remove(i);
            continue;
        }
        // RFC 2018 4: a block reports only data above the cumulative ACK.
        b.left = seq_max(b.left, rcv_nxt);
        ++i;
    }
}

std::size_t SackReceiver::fill(std::span<wire::TcpSackBlock> out) const noexcept {
    std::size_t n = 0;
    if (dsack_ && n < out.size())  // RFC 2883 4: the D-SACK block is the first one
        out[n++] = wire::TcpSackBlock{dsack_->left.value(), dsack_->right.value()};
    for (std::size_t i = 0; i < count_ && n < out.size(); ++i)
        out[n++] = wire::TcpSackBlock{blocks_[i].left.value(), blocks_[i].right.value()};
    return n;
}

void SackReceiver::fill(wire::TcpOptions& options) const noexcept {
    options.sack_count = static_cast<std::uint8_t>(fill(std::span(options.sack_blocks)));
}

}  // namespace netloom::tcp
