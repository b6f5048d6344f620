// reassembly_buffer.hpp — ReassemblyBuffer: a TCP receive buffer with out-of-order reassembly,
// holding received bytes in their packets where it can (one copy from the driver's buffer to
// the app's, at read()) and in one bounded byte ring where it must.
//
// Contract, bookkeeping: capacity() bytes in total (RCV.BUFF). The first readable() bytes are in
// order and not yet read by the user; the rest is the receive window: a byte `offset` positions
// after the end of the in-order data (offset 0 = RCV.NXT) sits at ring position readable() +
// offset, whether it arrives in order or not, so out-of-order data takes no space beyond the
// window it was sent into (free space is counted once: window_space() = capacity() -
// readable()). Filled ranges above RCV.NXT are kept as at most kMaxRanges sorted, disjoint,
// non-adjacent [begin, end) offsets; a segment that would need one more range is refused whole
// and counted (ranges_refused()), never partly stored. insert() trims data beyond
// window_space(); when the data reaches offset 0 the in-order part grows through every range it
// now touches and InsertResult::advanced says by how much (RCV.NXT moves by that). accept() and
// store() are insert()'s two halves (decide, then store) for callers that separate them.
//
// Contract, storage: the buffer holds its bytes either as slices of the packets they came in
// (Packet::share: a reference count, no copy, no allocation; a SliceTable sorted by position)
// or, as fallback, in its byte ring, never both at once. store() given the Packet that holds
// the bytes (`holder`) keeps them as a slice, as long as the ring is not in use, the table has
// room (SliceTable::kMaxEntries) and the packet buffers held stay within pin_limit() = 2 x
// capacity() (counted whole by Packet::buffer_bytes(), so a 1-byte segment costs its 2 KiB
// buffer; twice the window, so a full window of MSS-sized segments, ~1.4 x in their pooled
// buffers, fits). Otherwise (no holder, or a bound reached: tiny segments, an app that stopped
// reading) it collapses: every slice's bytes move into the ring and the ring holds all bytes
// stored until the buffer is empty again, as it did before slices existed. So the memory held
// is at most pin_limit() plus the table (kMaxEntries entries) as slices, at most capacity() as
// a ring, and the window, which promises bytes, is honoured either way. Overlap: the
// copy stored last wins, in slices and ring alike (what slices held at those positions is
// dropped from them). read() copies in-order bytes straight from the slices (or the ring) into
// the caller's buffer and drops them: with slices, the one copy between the driver's buffer
// and the app's. Storage (ring, range array, slice table) is allocated when first needed and
// released when the buffer becomes empty (the ring and table blocks to ByteRing's per-thread
// cache, so a receiver whose app reads everything takes the same storage back on the next
// segment); heap_bytes() reports it plus pinned_bytes(). copied_bytes() counts the bytes the
// ring fallback copied (for tests and diagnostics). Copyable: the ring and ranges deeply,
// slices by sharing them again (no byte copied; one thread, like the Packets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "netloom/packet.hpp"
#include "netloom/tcp_common/byte_ring.hpp"
#include "netloom/tcp_common/slice_table.hpp"

namespace netloom::tcp {

class ReassemblyBuffer {
public:
    static constexpr std::size_t kMaxRanges = 32;

    struct Range {
        std::uint32_t begin = 0;  ///< offset from RCV.NXT
        std::uint32_t end = 0;    ///< one past the last byte
        bool operator==(const Range&) const = default;
    };
    struct InsertResult {
        std::uint32_t advanced = 0;  ///< in-order bytes added (RCV.NXT moves by this)
        std::uint32_t stored = 0;    ///< bytes of the segment kept (after trimming to the window)
        bool refused = false;        ///< dropped: it would need more than kMaxRanges ranges
        bool filled_hole = false;    ///< the in-order data reached a range held out of order
        /// Ring position of the first stored byte (for store(); offset 0 = the ring's head).
        std::uint32_t position = 0;
    };

    explicit ReassemblyBuffer(std::uint32_t capacity = 0) noexcept : capacity_(capacity) {}
    ReassemblyBuffer(const ReassemblyBuffer& other);
    ReassemblyBuffer& operator=(const ReassemblyBuffer& other);
    ReassemblyBuffer(ReassemblyBuffer&&) noexcept = default;
    ReassemblyBuffer& operator=(ReassemblyBuffer&&) noexcept = default;
    ~ReassemblyBuffer() = default;

    std::uint32_t capacity() const noexcept { return capacity_; }
    std::uint32_t readable() const noexcept { return readable_; }
    bool empty() const noexcept { return readable_ == 0 && range_count_ == 0; }
    /// Bytes the window may cover beyond RCV.NXT: capacity minus unread in-order bytes.
    std::uint32_t window_space() const noexcept {
        return readable_ >= capacity_ ? 0 : capacity_ - readable_;
    }

    /// Store `bytes` at `offset` past RCV.NXT (see the contract for trimming and refusal):
    /// accept() then store(). `holder`, if given, is the packet whose valid bytes contain
    /// `bytes` (they may be kept as a slice of it).
    InsertResult insert(std::uint32_t offset, std::span<const std::uint8_t> bytes,
                        const Packet* holder = nullptr);
    /// The bookkeeping half of insert() for `length` bytes at `offset`: trims, merges ranges
    /// and advances the in-order data, but stores nothing. The caller then stores the first
    /// `stored` bytes with store(position, ...) before the next read() (until then a read
    /// returns stale bytes or zeros for them). For a caller that decides first and stores
    /// later (the utcp core decides, its shell stores from the packet).
    InsertResult accept(std::uint32_t offset, std::uint32_t length);
    /// Stores bytes at a ring position that accept() returned: as a slice of `holder` (the
    /// packet whose valid bytes contain `bytes`) when the contract allows, else copied into the
    /// ring. False, nothing stored, if they would fall outside the positions accept() made
    /// (a caller's mistake: never a write past the ring).
    bool store(std::uint32_t position, std::span<const std::uint8_t> bytes,
               const Packet* holder = nullptr);
    /// Copy up to out.size() in-order bytes out and drop them.
    std::size_t read(std::span<std::uint8_t> out) noexcept;
    /// Drop everything (abort).
    void clear() noexcept;

    std::span<const Range> ranges() const noexcept { return {ranges_.get(), range_count_}; }
    std::uint32_t out_of_order_bytes() const noexcept;
    std::uint64_t ranges_refused() const noexcept { return refused_; }
    /// Packet buffer bytes the held slices keep allocated, and their bound.
    std::size_t pinned_bytes() const noexcept { return slices_.pinned_bytes(); }
    std::size_t pin_limit() const noexcept { return std::size_t{capacity_} * 2; }
    /// Slices held, and the bytes ever copied into the ring (each a second copy on the way).
    std::uint32_t slice_count() const noexcept { return slices_.size(); }
    std::uint64_t copied_bytes() const noexcept { return copied_; }
    std::size_t heap_bytes() const noexcept {
        return ring_.allocated() + (ranges_ ? kMaxRanges * sizeof(Range) : 0) +
               slices_.storage_bytes() + slices_.pinned_bytes();
    }

private:
    std::uint32_t extent() const noexcept {  ///< ring positions in use
        return readable_ + (range_count_ > 0 ? ranges_[range_count_ - 1].end : 0);
    }
    /// Whether the table may take one more slice of `packet`'s buffer (contract's bounds).
    bool may_hold(const Packet& packet) const noexcept {
        return !slices_.full() && slices_.pinned_bytes() + packet.buffer_bytes() <= pin_limit();
    }
    /// Ring position of a slice's stream position.
    std::uint32_t position_of(std::uint32_t stream) const noexcept { return stream - base_; }
    /// Index of the first slice ending after ring position `position`.
    std::uint32_t first_slice_ending_after(std::uint32_t position) const noexcept {
        // In-order data lands after the last slice: answered without searching.
        const std::uint32_t count = slices_.size();
        if (count == 0 || position_of(slices_[count - 1].end()) <= position) return count;
        return search_slice_ending_after(position);
    }
    std::uint32_t search_slice_ending_after(std::uint32_t position) const noexcept;
    /// Drops what slices hold at ring positions [begin, end) (the newer copy wins). False if
    /// that needs one more slice than the bounds allow (then nothing was split).
    bool uncover(std::uint32_t begin, std::uint32_t end);
    /// Moves every slice's bytes into the ring (which holds from then until the buffer drains).
    void collapse();
    static bool holds(const Packet& packet, std::span<const std::uint8_t> bytes) noexcept;
    void copy_to_ring(std::uint32_t position, std::span<const std::uint8_t> bytes);
    void copy_from_ring(std::uint32_t position, std::span<std::uint8_t> out) const noexcept;
    void release_if_empty() noexcept;

    ByteRing ring_;
    SliceTable slices_;
    std::unique_ptr<Range[]> ranges_;
    std::uint32_t capacity_;
    std::uint32_t readable_ = 0;
    std::uint32_t range_count_ = 0;
    /// Stream position of ring position 0 (bytes read so far, mod 2^32): slices are kept by
    /// stream position so a read does not renumber them.
    std::uint32_t base_ = 0;
    std::uint64_t refused_ = 0;
    std::uint64_t copied_ = 0;
};

}  // namespace netloom::tcp
