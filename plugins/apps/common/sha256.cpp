// SHA-256 (FIPS 180-4): message buffering, padding, and the portable compression function.
#include "sha256.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::apps {
namespace detail {

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
const std::uint32_t kSha256RoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

namespace {

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
    return (x >> n) | (x << (32 - n));
}
// FIPS 180-4 4.1.2, functions (4.2) to (4.7).
constexpr std::uint32_t ch(std::uint32_t x, std::uint32_t y, std::uint32_t z) noexcept {
    return (x & y) ^ (~x & z);
}
constexpr std::uint32_t maj(std::uint32_t x, std::uint32_t y, std::uint32_t z) noexcept {
    return (x & y) ^ (x & z) ^ (y & z);
}
constexpr std::uint32_t big_sigma0(std::uint32_t x) noexcept {
    return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}
constexpr std::uint32_t big_sigma1(std::uint32_t x) noexcept {
    return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}
constexpr std::uint32_t small_sigma0(std::uint32_t x) noexcept {
    return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
}
constexpr std::uint32_t small_sigma1(std::uint32_t x) noexcept {
    return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
}

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

using BlockFunction = void (*)(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept;

BlockFunction choose_block_function() noexcept {
    return sha256_cpu_has_sha_ni() ? &sha256_blocks_sha_ni : &sha256_blocks_portable;
}

// Chosen once per process (a function-local static is initialised thread-safely).
BlockFunction block_function() noexcept {
    static const BlockFunction chosen = choose_block_function();
    return chosen;
}

}  // namespace

void sha256_blocks_portable(std::uint32_t* state, const std::uint8_t* data,
                            std::size_t blocks) noexcept {
    for (; blocks > 0; --blocks, data += Sha256::kBlockSize) {
        // FIPS 180-4 6.2.2 step 1: the message schedule.
        std::uint32_t w[64];
        for (int t = 0; t < 16; ++t) w[t] = load_be32(data + 4 * t);
        for (int t = 16; t < 64; ++t) {
            w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
        }
        // Steps 2 to 4: 64 rounds over the working variables a..h.
        std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; ++t) {
            const std::uint32_t t1 =
                h + big_sigma1(e) + ch(e, f, g) + kSha256RoundConstants[t] + w[t];
            const std::uint32_t t2 = big_sigma0(a) + maj(a, b, c);
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

}  // namespace detail

void Sha256::reset() noexcept {
    // FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square roots of the
    // first 8 primes.
    state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    length_ = 0;
    partial_size_ = 0;
}

void Sha256::update(std::span<const std::uint8_t> data) noexcept {
    length_ += data.size();
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    if (partial_size_ > 0) {
        const std::size_t take = std::min(left, kBlockSize - partial_size_);
        std::memcpy(partial_.data() + partial_size_, p, take);
        partial_size_ += take;
        p += take;
        left -= take;
        if (partial_size_ < kBlockSize) return;
        detail::block_function()(state_.data(), partial_.data(), 1);
        partial_size_ = 0;
    }
    // Whole blocks straight from the caller's memory: no copy on the bulk path.
    const std::size_t blocks = left / kBlockSize;
    if (blocks > 0) {
        detail::block_function()(state_.data(), p, blocks);
        p += blocks * kBlockSize;
        left -= blocks * kBlockSize;
    }
    std::memcpy(partial_.data(), p, left);
    partial_size_ = left;
}

Sha256::Digest Sha256::final() noexcept {
    // FIPS 180-4 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits as a
    // 64-bit big-endian number.
    const std::uint64_t bit_length = length_ * 8;
    std::uint8_t padding[kBlockSize + 8] = {0x80};
    const std::size_t used = partial_size_;
    const std::size_t zeros_and_marker = (used < 56 ? 56 : 120) - used;
    for (int i = 0; i < 8; ++i) {
        padding[zeros_and_marker + i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
    }
    update({padding, zeros_and_marker + 8});
    Digest digest;
    for (int i = 0; i < 8; ++i) {
        digest[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24);
        digest[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
        digest[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
        digest[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
    }
    reset();
    return digest;
}

std::string Sha256::hex(const Digest& digest) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * digest.size());
    for (std::uint8_t byte : digest) {
        out.push_back(kDigits[byte >> 4]);
        out.push_back(kDigits[byte & 0xf]);
    }
    return out;
}

Sha256::Digest Sha256::of(std::span<const std::uint8_t> data) noexcept {
    Sha256 hash;
    hash.update(data);
    return hash.final();
}

const char* Sha256::implementation() noexcept {
    return detail::block_function() == &detail::sha256_blocks_sha_ni ? "sha-ni" : "portable";
}

}  // namespace netloom::apps
