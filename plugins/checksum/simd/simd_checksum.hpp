// simd_checksum.hpp — the Internet checksum (RFC 1071) with AVX2 or AVX-512 vector loops, the
// code path chosen at load from what the CPU reports (CPUID via __builtin_cpu_supports).
//
// Contract: SimdChecksum is exactly a netloom::Checksum; its result folds to the same 16 bits as
// the reference. Constructing it for a path the CPU lacks throws std::invalid_argument (never a
// SIGILL later). The path helpers are pure functions of a SimdCpuFeatures value so the choice
// logic can be tested on any machine. The returned accumulator is below 2^34.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "netloom/checksum.hpp"

namespace netloom::checksum {

enum class SimdPath { avx2, avx512 };

/// "avx2" or "avx512": also what SimdChecksum::variant() returns.
const char* to_string(SimdPath path) noexcept;

struct SimdCpuFeatures {
    bool avx2 = false;
    bool avx512 = false;  ///< AVX-512F and AVX-512BW (the byte-masked loads need BW)
};

/// What this CPU (and OS, which must save the vector state) supports.
SimdCpuFeatures detect_simd_features() noexcept;

bool supports(SimdCpuFeatures cpu, SimdPath path) noexcept;
/// The fastest path `cpu` supports (avx512, else avx2), or nothing.
std::optional<SimdPath> best_simd_path(SimdCpuFeatures cpu) noexcept;
/// nullptr when some path runs on `cpu`, else a one-line reason for the plugin probe.
const char* simd_unavailable_reason(SimdCpuFeatures cpu) noexcept;

/// Resolves the `path` config value ("auto", "avx2" or "avx512") against `cpu`: the path to
/// use, or nothing when `cpu` cannot run what was asked for.
std::optional<SimdPath> choose_simd_path(std::string_view requested, SimdCpuFeatures cpu) noexcept;
/// The `path` values `cpu` can run, e.g. "auto, avx2", for error messages.
std::string supported_simd_paths(SimdCpuFeatures cpu);

class SimdChecksum final : public Checksum {
public:
    /// Throws std::invalid_argument when this CPU lacks `path`.
    explicit SimdChecksum(SimdPath path);

    std::uint64_t partial(std::span<const std::uint8_t> bytes,
                          std::uint64_t acc = 0) const noexcept override;
    const char* variant() const noexcept override { return to_string(path_); }
    SimdPath path() const noexcept { return path_; }

private:
    SimdPath path_;
};

}  // namespace netloom::checksum
