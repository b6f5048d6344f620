// packet.hpp — the move-only owner of one frame buffer, with headroom so each layer prepends its
// header in place (as Seastar's net::packet and VPP's vlib_buffer_t do).
//
// Contract: a Packet refers to [buffer, buffer+capacity); the valid bytes are [data(),
// data()+size()). `prepend` grows the front into the headroom, `pull` and `trim` shrink front and
// back; none of them copies or allocates. Buffers of up to `kPooledCapacity` bytes come from a
// per-thread free list (bounded, so memory is returned to the allocator past `kPoolMaxFree` idle
// buffers); larger ones are allocated exactly. A Packet is used by one thread at a time.
// Sharing: `share(offset, length)` returns another Packet over part of the same buffer without
// copying; the buffer carries a reference count (not atomic: every sharer lives on one thread)
// and goes back to the pool when the last sharer is destroyed. While a buffer has more than one
// sharer (`shared()`), `prepend` and `append` refuse (they would write bytes another sharer may
// cover) and a slice has neither headroom nor tailroom; `data()` stays writable, and a write
// through it is seen by every sharer of those bytes: code holding a slice reads it through the
// const accessors and never writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

namespace netloom {

class Packet {
public:
    static constexpr std::size_t kDefaultHeadroom = 128;  // Ethernet + IPv4 + TCP with options
    static constexpr std::size_t kPooledCapacity = 2048;
    static constexpr std::size_t kPoolMaxFree = 8192;

    /// Flags carried up the stack; meaning set by the layer that sets them.
    enum Flag : std::uint32_t {
        kReassembled = 1u << 0,       ///< the IP layer built this buffer from fragments
        kChecksumVerified = 1u << 1,  ///< the device or a lower layer verified L4 checksum
    };

    Packet() noexcept = default;
    /// An empty packet with `headroom` free in front and room for `payload` bytes after it.
    static Packet allocate(std::size_t payload, std::size_t headroom = kDefaultHeadroom);
    /// A packet holding a copy of `bytes`, with `headroom` in front.
    static Packet copy_of(std::span<const std::uint8_t> bytes,
                          std::size_t headroom = kDefaultHeadroom);

    Packet(Packet&& other) noexcept { steal(other); }
    Packet& operator=(Packet&& other) noexcept {
        if (this != &other) {
            release();
            steal(other);
        }
        return *this;
    }
    Packet(const Packet&) = delete;
    Packet& operator=(const Packet&) = delete;
    ~Packet() { release(); }

    explicit operator bool() const noexcept { return buffer_ != nullptr; }
    std::uint8_t* data() noexcept { return buffer_ + head_; }
    const std::uint8_t* data() const noexcept { return buffer_ + head_; }
    std::size_t size() const noexcept { return length_; }
    bool empty() const noexcept { return length_ == 0; }
    std::size_t headroom() const noexcept { return shared() ? 0 : head_; }
    std::size_t tailroom() const noexcept { return shared() ? 0 : capacity_ - head_ - length_; }
    std::span<std::uint8_t> bytes() noexcept { return {data(), length_}; }
    std::span<const std::uint8_t> bytes() const noexcept { return {data(), length_}; }

    /// Grows the front by n bytes (uninitialised); returns them. Returns an empty span and
    /// leaves the packet unchanged when the headroom is too small.
    std::span<std::uint8_t> prepend(std::size_t n) noexcept {
        if (n > headroom()) return {};
        head_ -= static_cast<std::uint32_t>(n);
        length_ += static_cast<std::uint32_t>(n);
        return {data(), n};
    }
    /// Grows the back by n bytes (uninitialised); empty span when the tailroom is too small.
    std::span<std::uint8_t> append(std::size_t n) noexcept {
        if (n > tailroom()) return {};
        std::uint8_t* at = data() + length_;  // tailroom() is 0 while shared
        length_ += static_cast<std::uint32_t>(n);
        return {at, n};
    }
    /// Drops n bytes from the front (a consumed header). False, unchanged, if n > size().
    bool pull(std::size_t n) noexcept {
        if (n > length_) return false;
        head_ += static_cast<std::uint32_t>(n);
        length_ -= static_cast<std::uint32_t>(n);
        return true;
    }
    /// Keeps only the first n bytes (drops padding). No effect when n >= size().
    void trim(std::size_t n) noexcept {
        if (n < length_) length_ = static_cast<std::uint32_t>(n);
    }

    std::uint32_t flags() const noexcept { return flags_; }
    void set_flag(Flag f) noexcept { flags_ |= f; }
    void clear_flag(Flag f) noexcept { flags_ &= ~static_cast<std::uint32_t>(f); }

    /// A new packet with its own copy of the valid bytes, the same flags and the same headroom
    /// (for duplication in fault injection, pcap...).
    Packet clone() const { return clone(head_); }
    /// Same, with `headroom` in front.
    Packet clone(std::size_t headroom) const {
        Packet copy = copy_of(bytes(), headroom);
        copy.flags_ = flags_;
        return copy;
    }

    /// A Packet over bytes [offset, offset + length) of this one's valid bytes, sharing the
    /// buffer (no copy), with the same flags; an empty Packet if the range is not inside
    /// [0, size()) or this Packet is empty. While shared, neither has headroom nor tailroom.
    Packet share(std::size_t offset, std::size_t length) const noexcept {
        Packet slice;
        if (!buffer_ || offset > length_ || length > length_ - offset) return slice;
        ++references(buffer_);
        slice.buffer_ = buffer_;
        slice.capacity_ = capacity_;
        slice.head_ = head_ + static_cast<std::uint32_t>(offset);
        slice.length_ = static_cast<std::uint32_t>(length);
        slice.flags_ = flags_;
        return slice;
    }
    /// Packets (this one included) referring to this buffer; 0 for an empty Packet.
    std::uint32_t use_count() const noexcept { return buffer_ ? references(buffer_) : 0; }
    /// More than one Packet refers to this buffer.
    bool shared() const noexcept { return use_count() > 1; }
    /// Bytes of memory the whole buffer occupies (its capacity and reference count), whatever
    /// part of it this Packet covers: what holding this Packet keeps allocated. 0 when empty.
    std::size_t buffer_bytes() const noexcept { return buffer_ ? capacity_ + kControlBytes : 0; }

    /// Number of buffers this thread keeps for reuse (for tests and memory accounting).
    static std::size_t pool_free_count() noexcept;

private:
    /// Every buffer is preceded by this many bytes holding its reference count (16 keeps the
    /// buffer as aligned as the allocation).
    static constexpr std::size_t kControlBytes = 16;
    static std::uint32_t& references(std::uint8_t* buffer) noexcept {
        return *reinterpret_cast<std::uint32_t*>(buffer - kControlBytes);
    }

    // Inline up to the last sharer (a receive buffer holding slices drops two references per
    // packet); returning the buffer to the pool is recycle()'s.
    void release() noexcept {
        if (!buffer_) return;
        std::uint8_t* buffer = std::exchange(buffer_, nullptr);
        if (--references(buffer) == 0) recycle(buffer, capacity_);
    }
    static void recycle(std::uint8_t* buffer, std::uint32_t capacity) noexcept;
    void steal(Packet& other) noexcept {
        buffer_ = std::exchange(other.buffer_, nullptr);
        capacity_ = std::exchange(other.capacity_, 0);
        head_ = std::exchange(other.head_, 0);
        length_ = std::exchange(other.length_, 0);
        flags_ = std::exchange(other.flags_, 0);
    }

    std::uint8_t* buffer_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t head_ = 0;
    std::uint32_t length_ = 0;
    std::uint32_t flags_ = 0;
};

}  // namespace netloom
