// packet.hpp — the move-only owner of one frame buffer, with headroom so each layer prepends its
// header in place (as Seastar's net::packet and VPP's vlib_buffer_t do).
//
// Contract: a Packet owns [buffer, buffer+capacity); the valid bytes are [data(), data()+size()).
// `prepend` grows the front into the headroom, `pull` and `trim` shrink front and back; none of
// them copies or allocates. Buffers of up to `kPooledCapacity` bytes come from a per-thread free
// list (bounded, so memory is returned to the allocator past `kPoolMaxFree` idle buffers); larger
// ones are allocated exactly. A Packet is used by one thread at a time.
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
    std::size_t headroom() const noexcept { return head_; }
    std::size_t tailroom() const noexcept { return capacity_ - head_ - length_; }
    std::span<std::uint8_t> bytes() noexcept { return {data(), length_}; }
    std::span<const std::uint8_t> bytes() const noexcept { return {data(), length_}; }

    /// Grows the front by n bytes (uninitialised); returns them. Returns an empty span and
    /// leaves the packet unchanged when the headroom is too small.
    std::span<std::uint8_t> prepend(std::size_t n) noexcept {
        if (n > head_) return {};
        head_ -= static_cast<std::uint32_t>(n);
        length_ += static_cast<std::uint32_t>(n);
        return {data(), n};
    }
    /// Grows the back by n bytes (uninitialised); empty span when the tailroom is too small.
    std::span<std::uint8_t> append(std::size_t n) noexcept {
        if (n > tailroom()) return {};
        std::uint8_t* at = data() + length_;
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

    /// A new packet with a copy of the valid bytes (for duplication in fault injection, pcap...).
    Packet clone(std::size_t headroom = kDefaultHeadroom) const {
        return copy_of(bytes(), headroom);
    }

    /// Number of buffers this thread keeps for reuse (for tests and memory accounting).
    static std::size_t pool_free_count() noexcept;

private:
    void release() noexcept;
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
