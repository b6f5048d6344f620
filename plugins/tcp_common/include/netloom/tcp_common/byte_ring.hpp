// byte_ring.hpp — ByteRing: the circular byte storage under SendBuffer and ReassemblyBuffer.
//
// Contract: positions are offsets from the ring's head (logical position 0). Storage is allocated
// lazily by reserve() and grows geometrically (at least kMinAllocation bytes, at most the limit
// the owner passes), keeping the live prefix [0, live) in order; release() gives it up. write()/
// read() copy with at most two memcpy calls (the wrap); the caller guarantees pos + size <=
// allocated(). advance(n) moves the head (drops the first n positions). Copying a ByteRing copies
// the bytes (the owner's state stays a value); moving transfers the storage.
// Storage reuse: a released block goes to a small per-thread cache (at most kCacheBlocks blocks,
// kCacheBytes bytes; past that it is freed), and the ring remembers its size: the next reserve()
// from empty takes a block of that size back from the cache (within the owner's limit). So a
// connection whose buffer drains and refills over and over (a bulk receiver whose app reads
// everything) neither allocates, page-faults nor regrows on each round, while an idle one holds
// no storage (only the cache, bounded per thread, does). The cache is thread-local: a ring is
// used by one thread at a time, like the connection that owns it. take_cached_block() and
// give_cached_block() let other per-connection storage (ReassemblyBuffer's slice table) draw on
// the same cache: a block is raw bytes, whoever used it last.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace netloom::tcp {

class ByteRing {
public:
    static constexpr std::uint32_t kMinAllocation = 2048;
    static constexpr std::size_t kCacheBlocks = 16;
    static constexpr std::size_t kCacheBytes = std::size_t{8} << 20;

    ByteRing() noexcept = default;
    ByteRing(const ByteRing& other);
    ByteRing& operator=(const ByteRing& other);
    ByteRing(ByteRing&& other) noexcept;
    ByteRing& operator=(ByteRing&& other) noexcept;
    ~ByteRing();

    /// Bytes of storage held (0 when released).
    std::uint32_t allocated() const noexcept { return data_ ? capacity_ : 0; }
    /// Ensure positions [0, needed) exist, keeping the bytes at [0, live); never beyond `limit`
    /// (needed <= limit is the caller's promise).
    void reserve(std::uint32_t needed, std::uint32_t live, std::uint32_t limit);
    void write(std::uint32_t pos, std::span<const std::uint8_t> bytes) noexcept;
    void read(std::uint32_t pos, std::span<std::uint8_t> out) const noexcept;
    /// The bytes at [pos, pos + size) in place, as at most two pieces (the second is empty
    /// unless they wrap); valid until the ring is next changed. Same bounds as read().
    std::array<std::span<const std::uint8_t>, 2> view(std::uint32_t pos,
                                                      std::uint32_t size) const noexcept;
    void advance(std::uint32_t count) noexcept;
    /// Gives the storage up (to the thread's cache); the next reserve() asks for as much again.
    void release() noexcept;

    /// Blocks and bytes in this thread's cache (for tests and memory accounting).
    static std::size_t cached_blocks() noexcept;
    static std::size_t cached_bytes() noexcept;
    /// A block of exactly `size` bytes from this thread's cache, or a newly allocated one
    /// (uninitialised either way; aligned as operator new[] aligns).
    static std::unique_ptr<std::uint8_t[]> take_cached_block(std::uint32_t size);
    /// Gives a block of `size` bytes back to this thread's cache (freed past its bounds).
    static void give_cached_block(std::unique_ptr<std::uint8_t[]> block,
                                  std::uint32_t size) noexcept;

private:
    std::uint32_t index(std::uint32_t pos) const noexcept {
        const std::uint32_t i = head_ + pos;  // head_ < capacity_ and pos <= capacity_
        return i >= capacity_ ? i - capacity_ : i;
    }

    std::unique_ptr<std::uint8_t[]> data_;
    /// Size of data_; while data_ is empty, the size the last storage had (what to ask again).
    std::uint32_t capacity_ = 0;
    std::uint32_t head_ = 0;
};

}  // namespace netloom::tcp
