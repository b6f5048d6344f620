// reassembly_buffer.cpp — receive ring with an interval list of out-of-order ranges (contract in
// reassembly_buffer.hpp).
#include "netloom/tcp_common/reassembly_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::tcp {

ReassemblyBuffer::ReassemblyBuffer(const ReassemblyBuffer& other)
    : ring_(other.ring_),
      capacity_(other.capacity_),
      readable_(other.readable_),
      range_count_(other.range_count_),
      refused_(other.refused_) {
    if (other.ranges_) {
        ranges_ = std::make_unique<Range[]>(kMaxRanges);
        std::copy_n(other.ranges_.get(), kMaxRanges, ranges_.get());
    }
}

ReassemblyBuffer& ReassemblyBuffer::operator=(const ReassemblyBuffer& other) {
    if (this != &other) *this = ReassemblyBuffer(other);
    return *this;
}

std::uint32_t ReassemblyBuffer::out_of_order_bytes() const noexcept {
    std::uint32_t total = 0;
    for (std::uint32_t i = 0; i < range_count_; ++i) total += ranges_[i].end - ranges_[i].begin;
    return total;
}

ReassemblyBuffer::InsertResult ReassemblyBuffer::insert(std::uint32_t offset,
                                                        std::span<const std::uint8_t> bytes) {
    const auto length = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
    const InsertResult result = accept(offset, length);
    if (result.stored > 0) store(result.position, bytes.first(result.stored));
    return result;
}

ReassemblyBuffer::InsertResult ReassemblyBuffer::accept(std::uint32_t offset,
                                                        std::uint32_t wanted) {
    InsertResult result;
    const std::uint32_t window = window_space();
    if (offset >= window || wanted == 0) return result;
    const std::uint32_t length = std::min(wanted, window - offset);
    std::uint32_t begin = offset;
    std::uint32_t end = offset + length;

    // Ranges [first, last) overlap or touch [begin, end); they merge with it into one range.
    std::uint32_t first = 0;
    while (first < range_count_ && ranges_[first].end < begin) ++first;
    std::uint32_t last = first;
    while (last < range_count_ && ranges_[last].begin <= end) ++last;
    const bool new_range = first == last && begin > 0;
    if (new_range && range_count_ == kMaxRanges) {
        ++refused_;  // bounded bookkeeping: the sender will retransmit it
        result.refused = true;
        return result;
    }

    const std::uint32_t live = extent();
    ring_.reserve(std::max(live, readable_ + end), live, capacity_);
    result.position = readable_ + begin;
    result.stored = length;

    if (first < last) {
        begin = std::min(begin, ranges_[first].begin);
        end = std::max(end, ranges_[last - 1].end);
    }
    if (begin == 0) {
        // In order: the in-order data grows to `end`; every merged range is consumed and the
        // remaining ones shift down by `end` (offsets are relative to RCV.NXT).
        result.filled_hole = first < last;
        result.advanced = end;
        readable_ += end;
        std::uint32_t kept = 0;
        for (std::uint32_t i = last; i < range_count_; ++i) {
            ranges_[kept++] = Range{ranges_[i].begin - end, ranges_[i].end - end};
        }
        range_count_ = kept;
        if (range_count_ == 0) ranges_.reset();
        return result;
    }
    if (!ranges_) ranges_ = std::make_unique<Range[]>(kMaxRanges);
    if (first == last) {
        std::copy_backward(ranges_.get() + first, ranges_.get() + range_count_,
                           ranges_.get() + range_count_ + 1);
        ++range_count_;
    } else {
        std::copy(ranges_.get() + last, ranges_.get() + range_count_, ranges_.get() + first + 1);
        range_count_ -= last - first - 1;
    }
    ranges_[first] = Range{begin, end};
    return result;
}

std::size_t ReassemblyBuffer::read(std::span<std::uint8_t> out) noexcept {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), readable_));
    if (n == 0) return 0;
    ring_.read(0, out.first(n));
    ring_.advance(n);
    readable_ -= n;
    release_if_empty();
    return n;
}

void ReassemblyBuffer::clear() noexcept {
    readable_ = 0;
    range_count_ = 0;
    release_if_empty();
}

void ReassemblyBuffer::release_if_empty() noexcept {
    if (readable_ != 0 || range_count_ != 0) return;
    ring_.release();  // an idle connection keeps no receive storage
    ranges_.reset();
}

}  // namespace netloom::tcp
