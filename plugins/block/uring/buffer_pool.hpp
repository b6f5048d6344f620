// buffer_pool.hpp — the memory blk_uring hands out through BlockDevice::allocate: page-aligned
// pieces of one region registered with the ring (io_uring fixed buffers), or page-aligned heap
// memory once the region is full.
//
// Contract: single-threaded. `allocate` never fails short of std::bad_alloc: a request that does
// not fit in the region's free space gets heap memory (counted). The device pins an allocation
// while the kernel holds an operation on it (`pin`/`unpin`); a BlockBuffer released meanwhile
// stays alive until its last pin goes, as block.hpp promises. The pool is reference-counted: the
// device holds one reference (`detach_device` drops it, after the ring is gone) and every live
// allocation holds one, so BlockBuffers may outlive the device (their memory is then freed, not
// reused). Region pieces are whole pages, found first-fit and coalesced when freed. The region
// starts on a 2 MiB boundary and is advised for transparent huge pages (physically contiguous
// buffers: fewer segments per request), where the kernel has them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "netloom/block.hpp"

namespace netloom::block {

class BufferPool {
public:
    struct Allocation {
        std::uint8_t* start = nullptr;
        std::size_t length = 0;   ///< bytes reserved (whole pages)
        bool registered = false;  ///< inside the region registered with the ring
        bool released = false;    ///< its BlockBuffer is gone
        std::uint32_t pins = 0;   ///< kernel operations on it
    };

    static constexpr std::size_t kPage = 4096;
    /// The region's alignment, for transparent huge pages (x86-64's and arm64's usual 2 MiB).
    static constexpr std::size_t kHugePage = std::size_t{2} << 20;

    /// A pool whose region holds `region_bytes` (rounded up to pages; 0: heap only). Its one
    /// reference belongs to the caller (the device). Throws std::system_error if mmap fails.
    static BufferPool* create(std::size_t region_bytes);
    /// The device is done with the pool; it is freed with its last allocation.
    void detach_device() noexcept;

    BlockBuffer allocate(std::size_t bytes);

    std::uint8_t* region() const noexcept { return region_; }
    std::size_t region_bytes() const noexcept { return region_bytes_; }
    /// Whether [data, data + length) lies wholly inside the region.
    bool in_region(const std::uint8_t* data, std::size_t length) const noexcept {
        return region_ && data >= region_ && data + length <= region_ + region_bytes_;
    }
    /// The live allocation of this pool holding [data, data + length) wholly, or nullptr.
    Allocation* find(const std::uint8_t* data, std::size_t length) noexcept;
    void pin(Allocation& allocation) noexcept { ++allocation.pins; }
    void unpin(Allocation& allocation) noexcept;

    std::uint64_t registered_allocations() const noexcept { return registered_allocations_; }
    std::uint64_t heap_allocations() const noexcept { return heap_allocations_; }
    std::size_t region_free_bytes() const noexcept { return region_free_bytes_; }

private:
    explicit BufferPool(std::size_t region_bytes);
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    static void release(std::uint8_t* data, void* owner);
    void free_allocation(std::map<std::uint8_t*, Allocation>::iterator it) noexcept;
    void unref() noexcept;
    std::uint8_t* take_from_region(std::size_t length) noexcept;
    void give_to_region(std::uint8_t* data, std::size_t length) noexcept;

    std::uint8_t* region_ = nullptr;
    std::size_t region_bytes_ = 0;
    std::size_t region_free_bytes_ = 0;
    std::map<std::size_t, std::size_t> free_;          ///< region offset -> length, disjoint
    std::map<std::uint8_t*, Allocation> allocations_;  ///< live (or released but pinned)
    std::size_t references_ = 1;                       ///< the device + live allocations
    std::uint64_t registered_allocations_ = 0;
    std::uint64_t heap_allocations_ = 0;
};

}  // namespace netloom::block
