// reassembly_buffer.hpp — ReassemblyBuffer: a TCP receive buffer with out-of-order reassembly in
// one bounded byte ring.
//
// Contract: capacity() bytes in total (RCV.BUFF). The first readable() bytes are in order and
// not yet read by the user; the rest of the ring is the receive window: a byte `offset` positions
// after the end of the in-order data (offset 0 = RCV.NXT) is stored at that offset, whether it
// arrives in order or not, so out-of-order data takes no space beyond the window it was sent
// into (free space is counted once: window_space() = capacity() - readable()). Filled ranges
// above RCV.NXT are kept as at most kMaxRanges sorted, disjoint, non-adjacent [begin, end)
// offsets; a segment that would need one more range is refused whole and counted
// (ranges_refused()), never partly stored. insert() trims data beyond window_space(); when the
// data reaches offset 0 the in-order part grows through every range it now touches and
// InsertResult::advanced says by how much (RCV.NXT moves by that). accept() and store() are
// insert()'s two halves (decide, then copy) for callers that separate them. read() copies in-order
// bytes out with memcpy. Storage (the ring, and separately the range array) is allocated when first
// needed and released when the buffer becomes empty; heap_bytes() reports it. The ring goes to
// ByteRing's per-thread cache, so a receiver whose app reads everything it gets takes the same
// storage back on the next segment instead of allocating and regrowing it. Copyable (deep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "netloom/tcp_common/byte_ring.hpp"

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
    /// accept() then store().
    InsertResult insert(std::uint32_t offset, std::span<const std::uint8_t> bytes);
    /// The bookkeeping half of insert() for `length` bytes at `offset`: trims, merges ranges,
    /// grows the ring and advances the in-order data, but copies nothing. The caller then
    /// writes the first `stored` bytes with store(position, ...) before the next read() (until
    /// then those positions hold garbage). For a caller that decides first and copies later
    /// (the utcp core decides, its shell copies from the packet).
    InsertResult accept(std::uint32_t offset, std::uint32_t length);
    /// Writes bytes at a ring position that accept() returned.
    /// Ignored if they would fall outside the ring (a caller's mistake, never a write past it).
    void store(std::uint32_t position, std::span<const std::uint8_t> bytes) noexcept {
        if (std::uint64_t{position} + bytes.size() <= ring_.allocated())
            ring_.write(position, bytes);
    }
    /// Copy up to out.size() in-order bytes out and drop them.
    std::size_t read(std::span<std::uint8_t> out) noexcept;
    /// Drop everything (abort).
    void clear() noexcept;

    std::span<const Range> ranges() const noexcept { return {ranges_.get(), range_count_}; }
    std::uint32_t out_of_order_bytes() const noexcept;
    std::uint64_t ranges_refused() const noexcept { return refused_; }
    std::size_t heap_bytes() const noexcept {
        return ring_.allocated() + (ranges_ ? kMaxRanges * sizeof(Range) : 0);
    }

private:
    std::uint32_t extent() const noexcept {  ///< ring positions in use
        return readable_ + (range_count_ > 0 ? ranges_[range_count_ - 1].end : 0);
    }
    void release_if_empty() noexcept;

    ByteRing ring_;
    std::unique_ptr<Range[]> ranges_;
    std::uint32_t capacity_;
    std::uint32_t readable_ = 0;
    std::uint32_t range_count_ = 0;
    std::uint64_t refused_ = 0;
};

}  // namespace netloom::tcp
