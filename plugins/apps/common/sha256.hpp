// sha256.hpp — Sha256: the SHA-256 hash of FIPS 180-4, computed incrementally, for apps that
// prove a byte stream arrived intact (the echo client, tcp_bulk).
//
// Contract: `update` may be called any number of times with pieces of any size (the digest only
// depends on the concatenation); `final` pads per FIPS 180-4 5.1.1, returns the 32-byte digest
// and resets the object for a new message. Blocks are compressed with the x86 SHA extensions
// when the CPU has them (checked once at run time) and with portable code otherwise; both give
// the same digests. Not constant-time (it hashes test data, not secrets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace netloom::apps {

class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;
    static constexpr std::size_t kBlockSize = 64;

    Sha256() noexcept { reset(); }

    void reset() noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    Digest final() noexcept;

    /// Lower-case hex, 64 characters.
    static std::string hex(const Digest& digest);
    /// One-shot convenience.
    static Digest of(std::span<const std::uint8_t> data) noexcept;
    /// Which block function this process uses: "sha-ni" or "portable".
    static const char* implementation() noexcept;

private:
    std::array<std::uint32_t, 8> state_;
    std::uint64_t length_ = 0;  ///< bytes hashed so far
    std::array<std::uint8_t, kBlockSize> partial_;
    std::size_t partial_size_ = 0;
};

namespace detail {
/// Compresses `blocks` consecutive 64-byte blocks into `state` (FIPS 180-4 6.2.2).
void sha256_blocks_portable(std::uint32_t* state, const std::uint8_t* data,
                            std::size_t blocks) noexcept;
/// The same with the SHA-NI instructions; only call when `sha256_cpu_has_sha_ni()`.
void sha256_blocks_sha_ni(std::uint32_t* state, const std::uint8_t* data,
                          std::size_t blocks) noexcept;
bool sha256_cpu_has_sha_ni() noexcept;
/// The round constants K (FIPS 180-4 4.2.2).
extern const std::uint32_t kSha256RoundConstants[64];
}  // namespace detail

}  // namespace netloom::apps
