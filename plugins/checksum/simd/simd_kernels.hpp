// simd_kernels.hpp — the vector loops of the "simd" checksum plugin (internal to it).
//
// Contract: each function returns a value congruent modulo 0xffff to the sum of the bytes read as
// native little-endian 16-bit words (an odd trailing byte being the low half of a word whose high
// half is zero), and zero only when every byte is zero, so Checksum::fold of it is exactly the
// folded native sum. Any alignment and length. Each must be called only on a CPU that has its
// instruction set (see SimdCpuFeatures): they are compiled with __attribute__((target)), not
// with global flags, and would fault with SIGILL elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netloom::checksum::simd_kernels {

/// Needs AVX2.
std::uint64_t native_sum_avx2(const std::uint8_t* bytes, std::size_t size) noexcept;
/// Needs AVX-512F and AVX-512BW (byte-masked loads for the tail).
std::uint64_t native_sum_avx512(const std::uint8_t* bytes, std::size_t size) noexcept;

}  // namespace netloom::checksum::simd_kernels
