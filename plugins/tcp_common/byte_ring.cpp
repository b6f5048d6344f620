// byte_ring.cpp — lazily allocated circular byte storage (contract in byte_ring.hpp).
#include "netloom/tcp_common/byte_ring.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::tcp {

ByteRing::ByteRing(const ByteRing& other) : capacity_(other.capacity_), head_(other.head_) {
    if (capacity_ > 0) {
        data_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
        std::memcpy(data_.get(), other.data_.get(), capacity_);
    }
}

ByteRing& ByteRing::operator=(const ByteRing& other) {
    if (this != &other) *this = ByteRing(other);
    return *this;
}

ByteRing::ByteRing(ByteRing&& other) noexcept
    : data_(std::move(other.data_)), capacity_(other.capacity_), head_(other.head_) {
    other.capacity_ = 0;
    other.head_ = 0;
}

ByteRing& ByteRing::operator=(ByteRing&& other) noexcept {
    data_ = std::move(other.data_);
    capacity_ = other.capacity_;
    head_ = other.head_;
    other.capacity_ = 0;
    other.head_ = 0;
    return *this;
}

void ByteRing::reserve(std::uint32_t needed, std::uint32_t live, std::uint32_t limit) {
    if (needed <= capacity_) return;
    // Doubling keeps the number of copies per byte bounded (amortised O(1)); the limit is the
    // socket buffer size, so a connection never holds more than it may buffer.
    const std::uint64_t doubled = std::uint64_t{capacity_} * 2;
    const auto grown = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::max<std::uint64_t>({doubled, kMinAllocation, needed}), std::max(limit, needed)));
    auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(grown);
    live = std::min(live, capacity_);
    if (live > 0) read(0, {fresh.get(), live});
    data_ = std::move(fresh);
    capacity_ = grown;
    head_ = 0;
}

void ByteRing::write(std::uint32_t pos, std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.empty()) return;
    const std::uint32_t start = index(pos);
    const std::size_t first = std::min<std::size_t>(bytes.size(), capacity_ - start);
    std::memcpy(data_.get() + start, bytes.data(), first);
    if (first < bytes.size()) std::memcpy(data_.get(), bytes.data() + first, bytes.size() - first);
}

void ByteRing::read(std::uint32_t pos, std::span<std::uint8_t> out) const noexcept {
    if (out.empty()) return;
    const std::uint32_t start = index(pos);
    const std::size_t first = std::min<std::size_t>(out.size(), capacity_ - start);
    std::memcpy(out.data(), data_.get() + start, first);
    if (first < out.size()) std::memcpy(out.data() + first, data_.get(), out.size() - first);
}

void ByteRing::advance(std::uint32_t count) noexcept {
    if (capacity_ == 0) return;
    head_ = index(count % capacity_);
}

void ByteRing::release() noexcept {
    data_.reset();
    capacity_ = 0;
    head_ = 0;
}

}  // namespace netloom::tcp
