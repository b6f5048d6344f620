// DataStream: SplitMix64 words laid out little endian, handed out in pieces of any size.
#include "data_stream.hpp"

#include <bit>
#include <cstring>

namespace netloom::apps {

std::uint64_t DataStream::next_word() noexcept {
    // SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
    // OOPSLA 2014): a Weyl sequence through a 64-bit finalizer; every seed gives a full-period
    // stream, including 0.
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void DataStream::fill(std::span<std::uint8_t> out) noexcept {
    std::uint8_t* p = out.data();
    std::size_t left = out.size();
    position_ += left;
    // The rest of a word a previous call started.
    while (left > 0 && word_bytes_left_ > 0) {
        *p++ = static_cast<std::uint8_t>(word_);
        word_ >>= 8;
        --word_bytes_left_;
        --left;
    }
    // Whole words; the stream is defined little endian, so convert on a big-endian host.
    for (; left >= 8; left -= 8, p += 8) {
        std::uint64_t word = next_word();
        if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
        std::memcpy(p, &word, 8);
    }
    if (left > 0) {
        word_ = next_word();
        word_bytes_left_ = 8;
        while (left > 0) {
            *p++ = static_cast<std::uint8_t>(word_);
            word_ >>= 8;
            --word_bytes_left_;
            --left;
        }
    }
}

}  // namespace netloom::apps
