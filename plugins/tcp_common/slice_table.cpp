// slice_table.cpp — a circular array of received-packet slices in a cached block (contract in
// slice_table.hpp).
#include "netloom/tcp_common/slice_table.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <memory>
#include <new>
#include <utility>

#include "netloom/tcp_common/byte_ring.hpp"

namespace netloom::tcp {
namespace {

std::uint32_t block_size(std::uint32_t entries) {
    return entries * static_cast<std::uint32_t>(sizeof(SliceTable::Slice));
}

}  // namespace

SliceTable::SliceTable(const SliceTable& other) : allocated_log2_(other.allocated_log2_) {
    for (std::uint32_t i = 0; i < other.count_; ++i) {
        const Slice& slice = other[i];
        if (!insert(count_, Slice{slice.bytes.share(0, slice.bytes.size()), slice.begin}))
            throw std::bad_alloc();
    }
}

SliceTable& SliceTable::operator=(const SliceTable& other) {
    if (this != &other) *this = SliceTable(other);
    return *this;
}

SliceTable::SliceTable(SliceTable&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      pinned_(std::exchange(other.pinned_, 0)),
      count_(std::exchange(other.count_, 0)),
      head_(std::exchange(other.head_, 0)),
      allocated_log2_(other.allocated_log2_) {}

SliceTable& SliceTable::operator=(SliceTable&& other) noexcept {
    if (this != &other) {
        clear();
        slots_ = std::exchange(other.slots_, nullptr);
        allocated_log2_ = other.allocated_log2_;
        head_ = std::exchange(other.head_, 0);
        count_ = std::exchange(other.count_, 0);
        pinned_ = std::exchange(other.pinned_, 0);
    }
    return *this;
}

bool SliceTable::insert_slow(std::uint32_t index, Slice&& slice) noexcept {
    const std::size_t pinned = pinned_ + slice.bytes.buffer_bytes();
    if (count_ == kMaxEntries || index > count_ || pinned > UINT32_MAX) return false;
    if ((!slots_ || count_ == allocated()) && !grow()) return false;
    for (std::uint32_t i = count_; i > index; --i) (*this)[i] = std::move((*this)[i - 1]);
    pinned_ = static_cast<std::uint32_t>(pinned);
    (*this)[index] = std::move(slice);
    ++count_;
    return true;
}

void SliceTable::erase(std::uint32_t index) noexcept {
    if (index >= count_) return;
    pinned_ -= static_cast<std::uint32_t>((*this)[index].bytes.buffer_bytes());
    if (index == 0) {
        (*this)[0] = Slice{};
        head_ = static_cast<std::uint8_t>((head_ + 1) & (allocated() - 1));
    } else {
        for (std::uint32_t i = index; i + 1 < count_; ++i) (*this)[i] = std::move((*this)[i + 1]);
        (*this)[count_ - 1u] = Slice{};
    }
    if (--count_ == 0) release_storage();
}

void SliceTable::clear() noexcept {
    for (std::uint32_t i = 0; i < count_; ++i) (*this)[i] = Slice{};
    count_ = 0;
    pinned_ = 0;
    release_storage();
}

bool SliceTable::grow() noexcept {
    // From empty, the size the table had before it was released (like ByteRing); then doubling.
    const std::uint32_t entries =
        slots_ ? allocated() * 2 : std::clamp<std::uint32_t>(allocated(), kMinEntries, kMaxEntries);
    std::unique_ptr<std::uint8_t[]> block;
    try {
        block = ByteRing::take_cached_block(block_size(entries));
    } catch (...) {
        return false;
    }
    auto* fresh = reinterpret_cast<Slice*>(block.release());
    std::uninitialized_default_construct_n(fresh, entries);
    fresh = std::launder(fresh);
    for (std::uint32_t i = 0; i < count_; ++i) fresh[i] = std::move((*this)[i]);
    release_storage();
    slots_ = fresh;
    allocated_log2_ = static_cast<std::uint8_t>(std::countr_zero(entries));
    head_ = 0;
    return true;
}

void SliceTable::release_storage() noexcept {
    head_ = 0;
    if (!slots_) return;
    std::destroy_n(slots_, allocated());  // every entry is empty by now (moved from or reset)
    auto* block = reinterpret_cast<std::uint8_t*>(std::exchange(slots_, nullptr));
    // allocated() stays: the size to ask again.
    ByteRing::give_cached_block(std::unique_ptr<std::uint8_t[]>(block), block_size(allocated()));
}

}  // namespace netloom::tcp
