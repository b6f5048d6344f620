// slice_table.hpp — SliceTable: received bytes a ReassemblyBuffer holds in place, as slices of
// the packets they arrived in (Packet::share: a reference count, no copy), in stream order.
//
// Contract: at most kMaxEntries entries, each a Packet slice (exactly the bytes held) and the
// stream position of its first byte; the owner keeps them sorted and disjoint (the table only
// stores what it is given where it is told). Positions are 32-bit stream counters that wrap, so
// the owner compares them relative to its own base. Storage: a circular array allocated from
// ByteRing's per-thread block cache when the first entry comes (kMinEntries), doubled when full
// up to kMaxEntries, and given back when the table empties, so a connection that drains and
// refills allocates nothing per segment and an idle one holds nothing. pinned_bytes() is the sum
// of every entry's Packet::buffer_bytes(): what the held packets keep allocated (two entries of
// one buffer count it twice, an over-estimate); insert() refuses an entry past 4 GiB of it.
// Copying a table shares every slice again (no byte is copied; the copies refer to the same
// buffers); all sharers live on one thread, like the Packets. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "netloom/packet.hpp"

namespace netloom::tcp {

class SliceTable {
public:
    static constexpr std::uint32_t kMinEntries = 16;
    static constexpr std::uint32_t kMaxEntries = 256;

    struct Slice {
        Packet bytes;             ///< a share() of the received packet: exactly the bytes held
        std::uint32_t begin = 0;  ///< stream position of bytes.data()[0]
        std::uint32_t end() const noexcept {
            return begin + static_cast<std::uint32_t>(bytes.size());
        }
    };

    SliceTable() noexcept = default;
    SliceTable(const SliceTable& other);
    SliceTable& operator=(const SliceTable& other);
    SliceTable(SliceTable&& other) noexcept;
    SliceTable& operator=(SliceTable&& other) noexcept;
    ~SliceTable() { clear(); }

    std::uint32_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    bool full() const noexcept { return count_ == kMaxEntries; }
    /// Entry `i` from the front (i < size()).
    Slice& operator[](std::uint32_t i) noexcept { return slots_[(head_ + i) & (allocated() - 1)]; }
    const Slice& operator[](std::uint32_t i) const noexcept {
        return slots_[(head_ + i) & (allocated() - 1)];
    }

    /// Moves `slice` in before entry `index` (index == size(): at the back). False, nothing
    /// changed and `slice` left as it was, when the table is full or its storage cannot grow.
    bool insert(std::uint32_t index, Slice&& slice) noexcept {
        const std::size_t pinned = pinned_ + slice.bytes.buffer_bytes();
        // The common case inline (a segment in order): room at the back, no shifting.
        if (index != count_ || !slots_ || count_ == allocated() || pinned > UINT32_MAX)
            return insert_slow(index, std::move(slice));
        (*this)[count_] = std::move(slice);
        ++count_;
        pinned_ = static_cast<std::uint32_t>(pinned);
        return true;
    }
    /// Removes entry `index`.
    void erase(std::uint32_t index) noexcept;
    void pop_front() noexcept {
        if (count_ <= 1) return erase(0);  // the last one: the storage goes back too
        Slice& front = (*this)[0];
        pinned_ -= static_cast<std::uint32_t>(front.bytes.buffer_bytes());
        front = Slice{};
        head_ = static_cast<std::uint8_t>((head_ + 1) & (allocated() - 1));
        --count_;
    }
    /// Removes every entry and gives the storage back.
    void clear() noexcept;

    std::size_t pinned_bytes() const noexcept { return pinned_; }
    /// The entry array's storage (0 when released).
    std::size_t storage_bytes() const noexcept {
        return slots_ ? std::size_t{allocated()} * sizeof(Slice) : 0;
    }

private:
    bool insert_slow(std::uint32_t index, Slice&& slice) noexcept;
    /// Entries in the storage (while slots_ is null: what it had, the size to ask again).
    std::uint32_t allocated() const noexcept { return 1u << allocated_log2_; }
    bool grow() noexcept;
    void release_storage() noexcept;

    // Packed small: every connection's receive buffer holds one of these, idle or not.
    Slice* slots_ = nullptr;    ///< allocated() constructed Slices in a cached block, or null
    std::uint32_t pinned_ = 0;  ///< insert() refuses what would overflow it
    std::uint16_t count_ = 0;
    std::uint8_t head_ = 0;            ///< below allocated() <= 256
    std::uint8_t allocated_log2_ = 0;  ///< a power of two: the index mask relies on it
};

}  // namespace netloom::tcp
