// BufferPool: one mmap'd region cut first-fit into pages, with heap memory past it.
#include "buffer_pool.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <new>
#include <system_error>

namespace netloom::block {

namespace {
std::size_t whole_pages(std::size_t bytes) {
    const std::size_t rounded = (bytes + BufferPool::kPage - 1) / BufferPool::kPage;
    return (rounded == 0 ? 1 : rounded) * BufferPool::kPage;
}
}  // namespace

BufferPool* BufferPool::create(std::size_t region_bytes) {
    return new BufferPool(region_bytes);
}

BufferPool::BufferPool(std::size_t region_bytes) {
    if (region_bytes == 0) return;
    region_bytes_ = whole_pages(region_bytes);
    // The region starts on a huge-page boundary and asks for transparent huge pages: a buffer
    // inside one is physically contiguous, one segment for the disk where 4 KiB pages make a
    // 64 KiB request up to 16 (on this machine's virtio disk 64 KiB random reads went from 0.4
    // to 1.4 GB/s: bench/block/README.md). Best effort: where THP is off the pages stay small.
    const std::size_t mapped = region_bytes_ + kHugePage;
    void* memory =
        ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        throw std::system_error(
            errno, std::generic_category(),
            "cannot map " + std::to_string(region_bytes_) + " bytes for registered buffers");
    }
    auto* const base = static_cast<std::uint8_t*>(memory);
    const std::size_t head = (kHugePage - reinterpret_cast<std::uintptr_t>(base) % kHugePage) %
                             kHugePage;  // bytes up to the first huge-page boundary
    if (head != 0) ::munmap(base, head);
    if (const std::size_t tail = mapped - head - region_bytes_; tail != 0) {
        ::munmap(base + head + region_bytes_, tail);
    }
    region_ = base + head;
    ::madvise(region_, region_bytes_, MADV_HUGEPAGE);  // EINVAL without THP: small pages
    free_.emplace(0, region_bytes_);
    region_free_bytes_ = region_bytes_;
}

BufferPool::~BufferPool() {
    if (region_) ::munmap(region_, region_bytes_);
}

void BufferPool::detach_device() noexcept {
    unref();
}

void BufferPool::unref() noexcept {
    if (--references_ == 0) delete this;
}

BlockBuffer BufferPool::allocate(std::size_t bytes) {
    const std::size_t length = whole_pages(bytes);
    std::uint8_t* data = take_from_region(length);
    const bool registered = data != nullptr;
    if (!data) {
        data = static_cast<std::uint8_t*>(std::aligned_alloc(kPage, length));
        if (!data) throw std::bad_alloc();
    }
    allocations_.emplace(data, Allocation{data, length, registered, false, 0});
    ++(registered ? registered_allocations_ : heap_allocations_);
    ++references_;
    return BlockBuffer(data, bytes, &BufferPool::release, this);
}

BufferPool::Allocation* BufferPool::find(const std::uint8_t* data, std::size_t length) noexcept {
    auto it = allocations_.upper_bound(const_cast<std::uint8_t*>(data));
    if (it == allocations_.begin()) return nullptr;
    --it;
    if (it->second.released) return nullptr;
    if (data + length > it->first + it->second.length) return nullptr;
    return &it->second;
}

void BufferPool::unpin(Allocation& allocation) noexcept {
    if (--allocation.pins != 0 || !allocation.released) return;
    // The BlockBuffer went while the kernel held it: free it now.
    free_allocation(allocations_.find(allocation.start));
}

void BufferPool::release(std::uint8_t* data, void* owner) {
    auto* pool = static_cast<BufferPool*>(owner);
    auto it = pool->allocations_.find(data);
    if (it == pool->allocations_.end()) return;  // not ours: cannot happen through BlockBuffer
    it->second.released = true;
    if (it->second.pins == 0) pool->free_allocation(it);
}

void BufferPool::free_allocation(std::map<std::uint8_t*, Allocation>::iterator it) noexcept {
    if (it->second.registered) {
        give_to_region(it->first, it->second.length);
    } else {
        std::free(it->first);
    }
    allocations_.erase(it);
    unref();
}

std::uint8_t* BufferPool::take_from_region(std::size_t length) noexcept {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second < length) continue;
        const std::size_t offset = it->first;
        const std::size_t rest = it->second - length;
        free_.erase(it);
        if (rest > 0) free_.emplace(offset + length, rest);
        region_free_bytes_ -= length;
        return region_ + offset;
    }
    return nullptr;
}

void BufferPool::give_to_region(std::uint8_t* data, std::size_t length) noexcept {
    std::size_t offset = static_cast<std::size_t>(data - region_);
    region_free_bytes_ += length;
    auto next = free_.lower_bound(offset);
    if (next != free_.end() && offset + length == next->first) {  // merge with the next hole
        length += next->second;
        next = free_.erase(next);
    }
    if (next != free_.begin()) {
        auto previous = std::prev(next);
        if (previous->first + previous->second == offset) {  // and with the previous one
            previous->second += length;
            return;
        }
    }
    free_.emplace(offset, length);
}

}  // namespace netloom::block
