// SHA-256 block compression with the x86 SHA extensions (SHA-NI), chosen at run time.
//
// The SHA256RNDS2 instruction keeps the working variables in two registers in the order
// ABEF and CDGH (most significant lane first) and does two rounds per call; SHA256MSG1/MSG2
// compute the message schedule (FIPS 180-4 6.2.2 step 1) four words at a time.
#include "sha256.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

namespace netloom::apps::detail {

bool sha256_cpu_has_sha_ni() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    // CPUID leaf 1: SSSE3 (ecx bit 9) and SSE4.1 (ecx bit 19); leaf 7.0: SHA (ebx bit 29).
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    return ssse3 && sse41 && ((ebx >> 29) & 1);
}

__attribute__((target("sha,sse4.1,ssse3"))) void sha256_blocks_sha_ni(std::uint32_t* state,
                                                                      const std::uint8_t* data,
                                                                      std::size_t blocks) noexcept {
    // Reverses the bytes of each 32-bit lane: the message words are big endian.
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    // state[] is a..h; lanes are written low first, so [a,b,c,d] -> ABEF = [f,e,b,a].
    __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
    __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
    abcd = _mm_shuffle_epi32(abcd, 0xB1);              // [b,a,d,c]
    efgh = _mm_shuffle_epi32(efgh, 0x1B);              // [h,g,f,e]
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);     // [f,e,b,a]
    __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);  // [h,g,d,c]

    for (; blocks > 0; --blocks, data += Sha256::kBlockSize) {
        const __m128i abef_saved = abef, cdgh_saved = cdgh;
        // w[i % 4] holds message words 4i..4i+3 once computed; the four registers are the last
        // 16 words, which is all W[t] needs (t-2, t-7, t-15, t-16).
        __m128i w[4];
        for (int i = 0; i < 4; ++i) {
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)), byte_swap);
        }
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
            if (i >= 4) {
                // W[t..t+3] from W[t-16..t-13] (w[i%4]), W[t-12..] (w[(i+1)%4]),
                // W[t-8..] (w[(i+2)%4]) and W[t-4..t-1] (w[(i+3)%4]).
                const __m128i older = _mm_sha256msg1_epu32(w[i % 4], w[(i + 1) % 4]);
                const __m128i minus7 = _mm_alignr_epi8(w[(i + 3) % 4], w[(i + 2) % 4], 4);
                w[i % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(older, minus7), w[(i + 3) % 4]);
            }
            const __m128i k =
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSha256RoundConstants + 4 * i));
            __m128i wk = _mm_add_epi32(w[i % 4], k);
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);  // rounds 4i, 4i+1
            wk = _mm_shuffle_epi32(wk, 0x0E);              // the upper two W+K words
            abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);  // rounds 4i+2, 4i+3
        }
        abef = _mm_add_epi32(abef, abef_saved);
        cdgh = _mm_add_epi32(cdgh, cdgh_saved);
    }

    // Back to a..h: ABEF [f,e,b,a] and CDGH [h,g,d,c] -> [a,b,c,d], [e,f,g,h].
    const __m128i abef_reversed = _mm_shuffle_epi32(abef, 0x1B);  // [a,b,e,f]
    const __m128i cdgh_swapped = _mm_shuffle_epi32(cdgh, 0xB1);   // [g,h,c,d]
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state),
                     _mm_blend_epi16(abef_reversed, cdgh_swapped, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4),
                     _mm_alignr_epi8(cdgh_swapped, abef_reversed, 8));
}

}  // namespace netloom::apps::detail

#else

namespace netloom::apps::detail {

bool sha256_cpu_has_sha_ni() noexcept {
    return false;
}

void sha256_blocks_sha_ni(std::uint32_t* state, const std::uint8_t* data,
                          std::size_t blocks) noexcept {
    sha256_blocks_portable(state, data, blocks);
}

}  // namespace netloom::apps::detail

#endif
