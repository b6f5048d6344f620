// byte_ring.cpp — lazily allocated circular byte storage with a per-thread cache of released
// blocks (contract in byte_ring.hpp).
#include "netloom/tcp_common/byte_ring.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace netloom::tcp {
namespace {

/// Released blocks of this thread, most recent last (LIFO: the block a connection just gave up
/// is the one it gets back, still in cache).
struct BlockCache {
    struct Block {
        std::unique_ptr<std::uint8_t[]> data;
        std::uint32_t size = 0;
    };
    std::vector<Block> blocks;
    std::size_t bytes = 0;

    std::unique_ptr<std::uint8_t[]> take(std::uint32_t size) noexcept {
        for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
            if (it->size != size) continue;
            auto data = std::move(it->data);
            blocks.erase(std::next(it).base());
            bytes -= size;
            return data;
        }
        return nullptr;
    }
    void put(std::unique_ptr<std::uint8_t[]> data, std::uint32_t size) noexcept {
        if (size > ByteRing::kCacheBytes) return;  // freed
        // Make room by dropping the oldest blocks; on allocation failure just free this one.
        while (!blocks.empty() &&
               (blocks.size() >= ByteRing::kCacheBlocks || bytes + size > ByteRing::kCacheBytes)) {
            bytes -= blocks.front().size;
            blocks.erase(blocks.begin());
        }
        try {
            blocks.push_back(Block{std::move(data), size});
            bytes += size;
        } catch (...) {
        }
    }
};

// Set when this thread's cache is destroyed: a ring released later (a static's destructor at
// exit) frees its block instead of touching the dead cache.
thread_local bool cache_destroyed = false;

struct ThreadCache : BlockCache {
    ~ThreadCache() { cache_destroyed = true; }
};

BlockCache* cache() {
    if (cache_destroyed) return nullptr;
    thread_local ThreadCache blocks;
    return &blocks;
}

void give_back(std::unique_ptr<std::uint8_t[]> data, std::uint32_t size) noexcept {
    if (BlockCache* blocks = cache()) blocks->put(std::move(data), size);
}

}  // namespace

ByteRing::ByteRing(const ByteRing& other) : capacity_(other.capacity_), head_(other.head_) {
    if (other.data_) {
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
    release();
    data_ = std::move(other.data_);
    capacity_ = other.capacity_;
    head_ = other.head_;
    other.capacity_ = 0;
    other.head_ = 0;
    return *this;
}

ByteRing::~ByteRing() {
    release();
}

void ByteRing::reserve(std::uint32_t needed, std::uint32_t live, std::uint32_t limit) {
    const std::uint32_t held = allocated();
    if (needed <= held) return;
    // Doubling keeps the number of copies per byte bounded (amortised O(1)); the limit is the
    // socket buffer size, so a connection never holds more than it may buffer. From empty, the
    // size the ring had before it was released (capacity_) is asked again.
    const std::uint64_t doubled = data_ ? std::uint64_t{held} * 2 : capacity_;
    const auto grown = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::max<std::uint64_t>({doubled, kMinAllocation, needed}), std::max(limit, needed)));
    std::unique_ptr<std::uint8_t[]> fresh = take_cached_block(grown);
    live = std::min(live, held);
    if (live > 0) read(0, {fresh.get(), live});
    if (data_) give_back(std::move(data_), held);
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

std::array<std::span<const std::uint8_t>, 2> ByteRing::view(std::uint32_t pos,
                                                            std::uint32_t size) const noexcept {
    if (size == 0) return {};
    const std::uint32_t start = index(pos);
    const std::uint32_t first = std::min(size, capacity_ - start);
    return {std::span<const std::uint8_t>(data_.get() + start, first),
            std::span<const std::uint8_t>(data_.get(), size - first)};
}

void ByteRing::advance(std::uint32_t count) noexcept {
    if (!data_) return;
    head_ = index(count % capacity_);
}

void ByteRing::release() noexcept {
    if (data_) give_back(std::move(data_), capacity_);  // capacity_ stays: the size to ask again
    head_ = 0;
}

std::unique_ptr<std::uint8_t[]> ByteRing::take_cached_block(std::uint32_t size) {
    std::unique_ptr<std::uint8_t[]> block;
    if (BlockCache* blocks = cache()) block = blocks->take(size);
    if (!block) block = std::make_unique_for_overwrite<std::uint8_t[]>(size);
    return block;
}

void ByteRing::give_cached_block(std::unique_ptr<std::uint8_t[]> block,
                                 std::uint32_t size) noexcept {
    give_back(std::move(block), size);
}

std::size_t ByteRing::cached_blocks() noexcept {
    const BlockCache* blocks = cache();
    return blocks ? blocks->blocks.size() : 0;
}

std::size_t ByteRing::cached_bytes() noexcept {
    const BlockCache* blocks = cache();
    return blocks ? blocks->bytes : 0;
}

}  // namespace netloom::tcp
