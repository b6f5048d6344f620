// CPU feature detection, path choice, and the Checksum object around the vector kernels.
#include "simd_checksum.hpp"

#include <stdexcept>

#include "simd_kernels.hpp"

namespace netloom::checksum {

const char* to_string(SimdPath path) noexcept {
    switch (path) {
        case SimdPath::avx2: return "avx2";
        case SimdPath::avx512: return "avx512";
    }
    return "unknown";
}

SimdCpuFeatures detect_simd_features() noexcept {
    // libgcc's CPU model also checks XCR0 (via XGETBV), so a feature the OS does not save on
    // context switch is reported as absent. __builtin_cpu_init is needed when this runs before
    // libgcc's own constructor (e.g. from another static initialiser); calling it twice is cheap.
    __builtin_cpu_init();
    SimdCpuFeatures cpu;
    cpu.avx2 = __builtin_cpu_supports("avx2");
    cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    return cpu;
}

bool supports(SimdCpuFeatures cpu, SimdPath path) noexcept {
    return path == SimdPath::avx512 ? cpu.avx512 : cpu.avx2;
}

std::optional<SimdPath> best_simd_path(SimdCpuFeatures cpu) noexcept {
    if (cpu.avx512) return SimdPath::avx512;
    if (cpu.avx2) return SimdPath::avx2;
    return std::nullopt;
}

const char* simd_unavailable_reason(SimdCpuFeatures cpu) noexcept {
    if (best_simd_path(cpu)) return nullptr;
    return "simd checksum needs AVX2; this CPU lacks it";
}

std::optional<SimdPath> choose_simd_path(std::string_view requested, SimdCpuFeatures cpu) noexcept {
    if (requested == "auto") return best_simd_path(cpu);
    for (const SimdPath path : {SimdPath::avx2, SimdPath::avx512}) {
        if (requested == to_string(path) && supports(cpu, path)) return path;
    }
    return std::nullopt;
}

std::string supported_simd_paths(SimdCpuFeatures cpu) {
    if (!best_simd_path(cpu)) return "none";
    std::string paths = "auto";
    for (const SimdPath path : {SimdPath::avx2, SimdPath::avx512}) {
        if (supports(cpu, path)) paths += std::string(", ") + to_string(path);
    }
    return paths;
}

SimdChecksum::SimdChecksum(SimdPath path) : path_(path) {
    if (!supports(detect_simd_features(), path)) {
        throw std::invalid_argument(std::string("simd checksum: this CPU cannot run the ") +
                                    to_string(path) + " path");
    }
}

std::uint64_t SimdChecksum::partial(std::span<const std::uint8_t> bytes,
                                    std::uint64_t acc) const noexcept {
    // A member branch (always predicted) rather than a function pointer: one indirect call
    // (the virtual one) per checksum is enough.
    const std::uint64_t native = path_ == SimdPath::avx512
                                     ? simd_kernels::native_sum_avx512(bytes.data(), bytes.size())
                                     : simd_kernels::native_sum_avx2(bytes.data(), bytes.size());
    // RFC 1071 §2(B): swapping the folded native-order sum gives the network-order one. Zero
    // stays zero, so this folds to exactly the reference's 16 bits.
    const std::uint16_t folded = fold(native);
    const std::uint64_t network_order = static_cast<std::uint16_t>(folded << 8 | folded >> 8);
    return (acc & 0xffffffffu) + (acc >> 32) + network_order;
}

}  // namespace netloom::checksum
