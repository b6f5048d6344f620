// Packet buffers: a per-thread free list of kPooledCapacity-byte buffers. The list is bounded
// (kPoolMaxFree) so a burst does not pin memory forever; buffers freed on a thread other than the
// one that allocated them simply join that thread's list. Each buffer is preceded by its
// reference count (kControlBytes), so share() costs no allocation.
#include "netloom/packet.hpp"

#include <cstdlib>
#include <new>
#include <vector>

namespace netloom {
namespace {

struct FreeList {
    std::vector<std::uint8_t*> buffers;  ///< allocation starts (control bytes first)
    ~FreeList() {
        for (auto* b : buffers) std::free(b);
    }
};

FreeList& free_list() {
    // initial-exec: libnetloom is linked, never dlopen()ed, so its TLS sits in the static block and
    // each access is one instruction instead of a __tls_get_addr call (7-15% of the wire path).
    [[gnu::tls_model("initial-exec")]] thread_local FreeList list;
    return list;
}

/// An allocation of control bytes + `capacity`; returns its start.
std::uint8_t* allocate_block(std::size_t capacity, std::size_t control_bytes) {
    if (capacity == Packet::kPooledCapacity) {
        auto& list = free_list().buffers;
        if (!list.empty()) {
            auto* b = list.back();
            list.pop_back();
            return b;
        }
    }
    void* p = std::malloc(control_bytes + capacity);
    if (!p) throw std::bad_alloc();
    return static_cast<std::uint8_t*>(p);
}

}  // namespace

Packet Packet::allocate(std::size_t payload, std::size_t headroom) {
    std::size_t need = payload + headroom;
    if (need > UINT32_MAX) throw std::bad_alloc();
    std::size_t capacity = need <= kPooledCapacity ? kPooledCapacity : need;
    Packet p;
    p.buffer_ = allocate_block(capacity, kControlBytes) + kControlBytes;
    references(p.buffer_) = 1;
    p.capacity_ = static_cast<std::uint32_t>(capacity);
    p.head_ = static_cast<std::uint32_t>(headroom);
    p.length_ = 0;
    return p;
}

Packet Packet::copy_of(std::span<const std::uint8_t> bytes, std::size_t headroom) {
    Packet p = allocate(bytes.size(), headroom);
    auto out = p.append(bytes.size());
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return p;
}

void Packet::recycle(std::uint8_t* buffer, std::uint32_t capacity) noexcept {
    std::uint8_t* block = buffer - kControlBytes;
    if (capacity == kPooledCapacity) {
        auto& list = free_list().buffers;
        if (list.size() < kPoolMaxFree) {
            try {
                list.push_back(block);
                return;
            } catch (...) {
                // fall through: give the buffer back to the allocator
            }
        }
    }
    std::free(block);
}

std::size_t Packet::pool_free_count() noexcept {
    return free_list().buffers.size();
}

}  // namespace netloom
