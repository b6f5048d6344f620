// The AVX2 and AVX-512 summation loops.
//
// Method: every 32-bit lane of a vector holds two little-endian 16-bit words; `lane & 0xffff`
// and `lane >> 16` split them and are added to 32-bit lane accumulators (RFC 1071 §2(B) lets us
// sum in native order; the caller swaps the folded result). A 32-bit lane could wrap after 65537
// words of 0xffff, so the loops work in blocks small enough to stay far below that and widen the
// lanes into 64-bit lanes once per block: no horizontal add inside the loop, one at the very end.
#include "simd_kernels.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace netloom::checksum::simd_kernels {
namespace {

// Each 32-bit lane accumulator takes one pair of words (at most 0x1fffe) per step of 4 vectors,
// so a block of 1024 steps (plus up to 3 single vectors) stays below 2^28: far from wrapping.
constexpr std::size_t kAvx2BlockBytes = std::size_t{128} << 10;
constexpr std::size_t kAvx512BlockBytes = std::size_t{256} << 10;

// Bytes [32 - r, 32) of `kAvx2TailMask + r` are 0xff and the rest 0: keeps the last r bytes.
alignas(64) constexpr std::uint8_t kAvx2TailMask[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Scalar native-order sum of fewer than 32 bytes (even count), for buffers too short for one
// AVX2 vector.
std::uint64_t short_native_sum(const std::uint8_t* at, std::size_t size) noexcept {
    std::uint64_t sum = 0;
    for (; size >= 4; at += 4, size -= 4) {
        std::uint32_t value;
        std::memcpy(&value, at, sizeof value);
        sum += value;  // two words at once: 2^16 = 1 (mod 0xffff)
    }
    if (size >= 2) {
        std::uint16_t value;
        std::memcpy(&value, at, sizeof value);
        sum += value;
    }
    return sum;
}

// ---- AVX2 ------------------------------------------------------------------------------------

__attribute__((target("avx2"))) inline __m256i words_of_avx2(__m256i bytes) {
    // Both words of each 32-bit lane, added: at most 0x1fffe per lane.
    return _mm256_add_epi32(_mm256_and_si256(bytes, _mm256_set1_epi32(0xffff)),
                            _mm256_srli_epi32(bytes, 16));
}

__attribute__((target("avx2"))) inline __m256i widen_avx2(__m256i lanes32) {
    // The two 32-bit halves of each 64-bit lane, added as 64-bit values.
    return _mm256_add_epi64(_mm256_and_si256(lanes32, _mm256_set1_epi64x(0xffffffff)),
                            _mm256_srli_epi64(lanes32, 32));
}

}  // namespace

__attribute__((target("avx2"))) std::uint64_t native_sum_avx2(const std::uint8_t* at,
                                                              std::size_t size) noexcept {
    std::uint64_t scalar = 0;
    if (size & 1) {
        // Taken off first so the rest is even-sized and the overlapping tail load below starts
        // at an even offset of the message, keeping words paired.
        scalar = at[size - 1];
        --size;
    }
    if (size < 32) return scalar + short_native_sum(at, size);

    const std::uint8_t* const end = at + size;
    __m256i total = _mm256_setzero_si256();  // 64-bit lanes
    while (end - at >= 32) {
        const std::uint8_t* const block_end =
            at + std::min<std::size_t>(end - at, kAvx2BlockBytes) / 32 * 32;
        __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
        __m256i sum2 = _mm256_setzero_si256(), sum3 = _mm256_setzero_si256();
        for (; block_end - at >= 128; at += 128) {
            const auto* vectors = reinterpret_cast<const __m256i*>(at);
            sum0 = _mm256_add_epi32(sum0, words_of_avx2(_mm256_loadu_si256(vectors)));
            sum1 = _mm256_add_epi32(sum1, words_of_avx2(_mm256_loadu_si256(vectors + 1)));
            sum2 = _mm256_add_epi32(sum2, words_of_avx2(_mm256_loadu_si256(vectors + 2)));
            sum3 = _mm256_add_epi32(sum3, words_of_avx2(_mm256_loadu_si256(vectors + 3)));
        }
        for (; block_end - at >= 32; at += 32) {
            const auto* vector = reinterpret_cast<const __m256i*>(at);
            sum0 = _mm256_add_epi32(sum0, words_of_avx2(_mm256_loadu_si256(vector)));
        }
        total = _mm256_add_epi64(total, _mm256_add_epi64(widen_avx2(sum0), widen_avx2(sum1)));
        total = _mm256_add_epi64(total, _mm256_add_epi64(widen_avx2(sum2), widen_avx2(sum3)));
    }
    if (const std::size_t rest = end - at; rest > 0) {
        // Reload the last 32 bytes (the buffer has at least 32) and zero the ones already summed.
        const __m256i last = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(end - 32));
        const __m256i keep =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kAvx2TailMask + rest));
        total = _mm256_add_epi64(total, widen_avx2(words_of_avx2(_mm256_and_si256(last, keep))));
    }
    const __m128i halves =
        _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    return scalar + static_cast<std::uint64_t>(_mm_cvtsi128_si64(halves)) +
           static_cast<std::uint64_t>(_mm_extract_epi64(halves, 1));
}

// ---- AVX-512 ---------------------------------------------------------------------------------

namespace {

// The zero-masking (maskz, all lanes selected) forms of the shifts and the extract compile to the
// same instructions as the plain ones; they avoid GCC 12's false -Wuninitialized on the plain
// ones, whose headers pass an `_mm512_undefined_*()` operand.
__attribute__((target("avx512bw,avx512f"))) inline __m512i words_of_avx512(__m512i bytes) {
    return _mm512_add_epi32(_mm512_and_si512(bytes, _mm512_set1_epi32(0xffff)),
                            _mm512_maskz_srli_epi32(0xffff, bytes, 16));
}

__attribute__((target("avx512bw,avx512f"))) inline __m512i widen_avx512(__m512i lanes32) {
    return _mm512_add_epi64(_mm512_and_si512(lanes32, _mm512_set1_epi64(0xffffffff)),
                            _mm512_maskz_srli_epi64(0xff, lanes32, 32));
}

}  // namespace

__attribute__((target("avx512bw,avx512f"))) std::uint64_t native_sum_avx512(
    const std::uint8_t* at, std::size_t size) noexcept {
    const std::uint8_t* const end = at + size;
    __m512i total = _mm512_setzero_si512();  // 64-bit lanes
    while (end - at >= 64) {
        const std::uint8_t* const block_end =
            at + std::min<std::size_t>(end - at, kAvx512BlockBytes) / 64 * 64;
        __m512i sum0 = _mm512_setzero_si512(), sum1 = _mm512_setzero_si512();
        __m512i sum2 = _mm512_setzero_si512(), sum3 = _mm512_setzero_si512();
        for (; block_end - at >= 256; at += 256) {
            sum0 = _mm512_add_epi32(sum0, words_of_avx512(_mm512_loadu_si512(at)));
            sum1 = _mm512_add_epi32(sum1, words_of_avx512(_mm512_loadu_si512(at + 64)));
            sum2 = _mm512_add_epi32(sum2, words_of_avx512(_mm512_loadu_si512(at + 128)));
            sum3 = _mm512_add_epi32(sum3, words_of_avx512(_mm512_loadu_si512(at + 192)));
        }
        for (; block_end - at >= 64; at += 64) {
            sum0 = _mm512_add_epi32(sum0, words_of_avx512(_mm512_loadu_si512(at)));
        }
        total = _mm512_add_epi64(total, _mm512_add_epi64(widen_avx512(sum0), widen_avx512(sum1)));
        total = _mm512_add_epi64(total, _mm512_add_epi64(widen_avx512(sum2), widen_avx512(sum3)));
    }
    if (const std::size_t rest = end - at; rest > 0) {
        // A byte-masked load reads only the `rest` bytes (masked-off bytes never fault) and
        // zero-fills the others, which is also the padding an odd trailing byte needs.
        const __mmask64 mask = (std::uint64_t{1} << rest) - 1;  // rest < 64
        const __m512i last = _mm512_maskz_loadu_epi8(mask, at);
        total = _mm512_add_epi64(total, widen_avx512(words_of_avx512(last)));
    }
    const __m256i halves = _mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xf, total, 0),
                                            _mm512_maskz_extracti64x4_epi64(0xf, total, 1));
    const __m128i quarters =
        _mm_add_epi64(_mm256_castsi256_si128(halves), _mm256_extracti128_si256(halves, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(quarters)) +
           static_cast<std::uint64_t>(_mm_extract_epi64(quarters, 1));
}

}  // namespace netloom::checksum::simd_kernels
