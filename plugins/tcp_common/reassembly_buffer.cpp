// reassembly_buffer.cpp — receive bookkeeping (an interval list of out-of-order ranges) over
// packet slices with a byte ring as fallback (contract in reassembly_buffer.hpp).
#include "netloom/tcp_common/reassembly_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::tcp {

ReassemblyBuffer::ReassemblyBuffer(const ReassemblyBuffer& other)
    : ring_(other.ring_),
      slices_(other.slices_),
      capacity_(other.capacity_),
      readable_(other.readable_),
      range_count_(other.range_count_),
      base_(other.base_),
      refused_(other.refused_),
      copied_(other.copied_) {
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
                                                        std::span<const std::uint8_t> bytes,
                                                        const Packet* holder) {
    const auto length = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
    const InsertResult result = accept(offset, length);
    if (result.stored > 0) store(result.position, bytes.first(result.stored), holder);
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

bool ReassemblyBuffer::store(std::uint32_t position, std::span<const std::uint8_t> bytes,
                             const Packet* holder) {
    if (bytes.empty()) return true;
    if (std::uint64_t{position} + bytes.size() > extent()) return false;
    const auto length = static_cast<std::uint32_t>(bytes.size());
    // A slice when the packet holds these bytes and the bounds allow; else, from now until the
    // buffer drains, the ring holds everything (contract).
    if (!ring_.allocated() && holder && holds(*holder, bytes)) {
        std::uint32_t index = first_slice_ending_after(position);
        // Slices ending after `position` may overlap (not so for data in order: the usual case).
        bool uncovered = index == slices_.size();
        if (!uncovered && uncover(position, position + length)) {
            index = first_slice_ending_after(position);
            uncovered = true;
        }
        if (uncovered && may_hold(*holder)) {
            const auto offset = static_cast<std::size_t>(bytes.data() - holder->data());
            SliceTable::Slice slice{holder->share(offset, length), base_ + position};
            if (slices_.insert(index, std::move(slice))) return true;
        }
    }
    collapse();
    copy_to_ring(position, bytes);
    return true;
}

bool ReassemblyBuffer::holds(const Packet& packet, std::span<const std::uint8_t> bytes) noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(bytes.data());
    const auto first = reinterpret_cast<std::uintptr_t>(packet.data());
    return at >= first && at - first <= packet.size() &&
           packet.size() - (at - first) >= bytes.size();
}

std::uint32_t ReassemblyBuffer::search_slice_ending_after(std::uint32_t position) const noexcept {
    std::uint32_t low = 0, high = slices_.size();
    while (low < high) {
        const std::uint32_t middle = low + (high - low) / 2;
        if (position_of(slices_[middle].end()) <= position) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

bool ReassemblyBuffer::uncover(std::uint32_t begin, std::uint32_t end) {
    for (std::uint32_t i = first_slice_ending_after(begin); i < slices_.size();) {
        SliceTable::Slice& slice = slices_[i];
        const std::uint32_t slice_begin = position_of(slice.begin);
        const std::uint32_t slice_end = position_of(slice.end());
        if (slice_begin >= end) return true;
        if (slice_begin >= begin && slice_end <= end) {
            slices_.erase(i);  // wholly replaced
        } else if (slice_begin < begin && slice_end > end) {
            // The newer bytes fall inside this slice: it keeps its head and its tail becomes a
            // slice of its own, if the bounds allow one more.
            if (!may_hold(slice.bytes)) return false;
            SliceTable::Slice tail{slice.bytes.share(end - slice_begin, slice_end - end),
                                   base_ + end};
            if (!slices_.insert(i + 1, std::move(tail))) return false;
            slices_[i].bytes.trim(begin - slice_begin);
            return true;
        } else if (slice_begin < begin) {
            slice.bytes.trim(begin - slice_begin);  // keeps its head
            ++i;
        } else {
            slice.bytes.pull(end - slice_begin);  // keeps its tail
            slice.begin = base_ + end;
            return true;
        }
    }
    return true;
}

void ReassemblyBuffer::collapse() {
    if (slices_.empty()) return;
    ring_.reserve(extent(), 0, capacity_);  // no ring yet: slices and ring never hold together
    for (std::uint32_t i = 0; i < slices_.size(); ++i) {
        const SliceTable::Slice& slice = slices_[i];
        ring_.write(position_of(slice.begin), slice.bytes.bytes());
        copied_ += slice.bytes.size();
    }
    slices_.clear();
}

void ReassemblyBuffer::copy_to_ring(std::uint32_t position, std::span<const std::uint8_t> bytes) {
    const auto end = position + static_cast<std::uint32_t>(bytes.size());
    // The ring covers positions [0, end); growing it keeps whatever it holds below extent().
    ring_.reserve(end, extent(), capacity_);
    ring_.write(position, bytes);
    copied_ += bytes.size();
}

void ReassemblyBuffer::copy_from_ring(std::uint32_t position,
                                      std::span<std::uint8_t> out) const noexcept {
    if (std::uint64_t{position} + out.size() <= ring_.allocated()) {
        ring_.read(position, out);
    } else {
        std::memset(out.data(), 0, out.size());  // accepted but never stored (contract)
    }
}

std::size_t ReassemblyBuffer::read(std::span<std::uint8_t> out) noexcept {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), readable_));
    if (n == 0) return 0;
    // The one copy on the way in: from each slice's packet (or the ring) into `out`.
    for (std::uint32_t done = 0; done < n;) {
        std::uint32_t chunk = n - done;
        const std::uint32_t next_slice = slices_.empty() ? chunk : position_of(slices_[0].begin);
        if (next_slice == 0) {
            SliceTable::Slice& front = slices_[0];
            chunk = std::min(chunk, static_cast<std::uint32_t>(front.bytes.size()));
            std::memcpy(out.data() + done, front.bytes.data(), chunk);
            if (chunk == front.bytes.size()) {
                slices_.pop_front();
            } else {
                front.bytes.pull(chunk);
                front.begin += chunk;
            }
        } else {
            chunk = std::min(chunk, next_slice);
            copy_from_ring(done, out.subspan(done, chunk));
        }
        base_ += chunk;
        done += chunk;
    }
    ring_.advance(n);
    readable_ -= n;
    release_if_empty();
    return n;
}

void ReassemblyBuffer::clear() noexcept {
    slices_.clear();
    readable_ = 0;
    range_count_ = 0;
    release_if_empty();
}

void ReassemblyBuffer::release_if_empty() noexcept {
    if (readable_ != 0 || range_count_ != 0) return;
    ring_.release();  // an idle connection keeps no receive storage
    ranges_.reset();
    slices_.clear();
}

}  // namespace netloom::tcp
