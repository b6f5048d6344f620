// data_stream.hpp — DataStream: the deterministic pseudo-random byte stream that TCP senders
// send, so a receiver (or a test) that knows the seed can regenerate and check it.
//
// Contract: the stream of a seed is fixed: byte k is byte (k mod 8) (least significant first)
// of the (k div 8)-th output of SplitMix64 started at `seed`. `fill` writes the next bytes,
// whatever the sizes of the pieces asked for, so fill(10) + fill(6) equals fill(16). About
// 1 ns per 8 bytes: cheap next to the network stack it feeds. Not for cryptography.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace netloom::apps {

class DataStream {
public:
    explicit DataStream(std::uint64_t seed) noexcept : state_(seed) {}

    /// Writes the next `out.size()` bytes of the stream.
    void fill(std::span<std::uint8_t> out) noexcept;
    /// Bytes produced so far.
    std::uint64_t position() const noexcept { return position_; }

private:
    std::uint64_t next_word() noexcept;

    std::uint64_t state_;
    std::uint64_t word_ = 0;        ///< the current word, consumed from its low byte up
    unsigned word_bytes_left_ = 0;  ///< bytes of word_ not handed out yet
    std::uint64_t position_ = 0;
};

}  // namespace netloom::apps
