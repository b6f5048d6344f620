// send_buffer.hpp — SendBuffer: a TCP send buffer as a bounded byte ring.
//
// Contract: holds the bytes from SND.UNA onwards (sent-but-unacknowledged, then unsent), at most
// limit() bytes. append() takes what fits and returns how much; peek(offset, out) copies bytes
// starting `offset` bytes after SND.UNA, and view(offset, length) shows them in place (what a
// (re)transmission copies into its packet); consume(n) drops the
// first n bytes when they are acknowledged. All copies are bulk memcpy (at most two per call).
// Storage is allocated on the first append and released as soon as the buffer becomes empty, so an
// idle connection holds no send storage; heap_bytes() reports what is held. A released ring goes
// to ByteRing's per-thread cache and the next append takes the same size back (no regrowth, no
// page faults on every drain). Copyable (deep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/tcp_common/byte_ring.hpp"

namespace netloom::tcp {

class SendBuffer {
public:
    explicit SendBuffer(std::uint32_t limit = 0) noexcept : limit_(limit) {}

    std::uint32_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::uint32_t limit() const noexcept { return limit_; }
    std::uint32_t free_space() const noexcept { return size_ >= limit_ ? 0 : limit_ - size_; }
    /// A lower limit takes effect as bytes are consumed (nothing queued is dropped).
    void set_limit(std::uint32_t limit) noexcept { limit_ = limit; }

    std::size_t append(std::span<const std::uint8_t> bytes);
    /// Copies min(out.size(), size() - offset) bytes from `offset`; returns how many.
    std::size_t peek(std::uint32_t offset, std::span<std::uint8_t> out) const noexcept;
    /// The bytes [offset, offset + min(length, size() - offset)) in place, as at most two
    /// pieces (the ring's wrap), for copying straight into a packet; valid until the buffer is
    /// next changed. Empty when offset >= size().
    std::array<std::span<const std::uint8_t>, 2> view(std::uint32_t offset,
                                                      std::uint32_t length) const noexcept;
    /// Drops the first min(count, size()) bytes.
    void consume(std::uint32_t count) noexcept;
    void clear() noexcept;

    std::size_t heap_bytes() const noexcept { return ring_.allocated(); }

private:
    ByteRing ring_;
    std::uint32_t size_ = 0;
    std::uint32_t limit_;
};

}  // namespace netloom::tcp
