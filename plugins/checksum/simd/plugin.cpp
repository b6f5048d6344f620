// Registration of the "simd" checksum plugin: AVX-512 or AVX2, chosen at load by CPUID.
#include <memory>
#include <string>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/plugin.hpp"
#include "simd_checksum.hpp"

namespace {

using namespace netloom::checksum;

const char* simd_checksum_unavailable() {
    return simd_unavailable_reason(detect_simd_features());
}

std::unique_ptr<netloom::PluginObject> make_simd_checksum(const netloom::Config& config,
                                                          netloom::Env&) {
    config.allow({"use"});
    const std::string requested = config.get_choice("path", {"auto", "avx2", "avx512"}, "auto");
    config.done();
    const SimdCpuFeatures cpu = detect_simd_features();
    const auto path = choose_simd_path(requested, cpu);
    if (!path && requested == "auto") config.fail_message("path", simd_unavailable_reason(cpu));
    if (!path) {
        config.fail("path", "a path this CPU supports (" + supported_simd_paths(cpu) + ")",
                    requested);
    }
    return std::make_unique<SimdChecksum>(*path);
}

}  // namespace

NETLOOM_PLUGIN(simd_checksum_plugin, checksum, "simd", "1.0.0",
               "RFC 1071 checksum with AVX-512 or AVX2, chosen at load by CPUID",
               &make_simd_checksum, &simd_checksum_unavailable);
