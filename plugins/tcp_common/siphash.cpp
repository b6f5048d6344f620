// siphash.cpp — SipHash-2-4, written from the paper's description (contract in siphash.hpp).
#include "netloom/tcp_common/siphash.hpp"

#include <bit>

namespace netloom::tcp {

namespace {

std::uint64_t load_le64(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) value |= std::uint64_t{p[i]} << (8 * i);
    return value;
}

struct SipState {
    std::uint64_t v0, v1, v2, v3;

    void round() noexcept {  // one SipRound (paper, section 2)
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }
    void compress(std::uint64_t m) noexcept {
        v3 ^= m;
        round();  // c = 2 rounds per message word
        round();
        v0 ^= m;
    }
};

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> message) noexcept {
    const std::uint64_t k0 = load_le64(key.data(), 8);
    const std::uint64_t k1 = load_le64(key.data() + 8, 8);
    // Initialisation constants: the ASCII of "somepseudorandomlygeneratedbytes".
    SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
               k1 ^ 0x7465646279746573ull};
    const std::size_t full = message.size() / 8;
    for (std::size_t i = 0; i < full; ++i) s.compress(load_le64(message.data() + 8 * i, 8));
    // Last word: the remaining bytes, with the message length mod 256 in the top byte.
    const std::size_t tail = message.size() % 8;
    const std::uint64_t last =
        load_le64(message.data() + 8 * full, tail) | (std::uint64_t{message.size() & 0xff} << 56);
    s.compress(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) s.round();  // d = 4 finalization rounds
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace netloom::tcp
