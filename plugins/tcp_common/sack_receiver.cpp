// sack_receiver.cpp — recency-ordered SACK blocks (contract in sack_receiver.hpp).
#include "netloom/tcp_common/sack_receiver.hpp"

#include <algorithm>

namespace netloom::tcp {

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
    const std::size_t n = std::min(out.size(), count_);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = wire::TcpSackBlock{blocks_[i].left.value(), blocks_[i].right.value()};
    }
    return n;
}

void SackReceiver::fill(wire::TcpOptions& options) const noexcept {
    options.sack_count = static_cast<std::uint8_t>(fill(std::span(options.sack_blocks)));
}

}  // namespace netloom::tcp
