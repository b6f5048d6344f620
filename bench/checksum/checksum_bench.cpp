// checksum_bench — throughput of Checksum::finish for each checksum implementation (ref, fast,
// simd-avx2, simd-avx512) at 64 B, 1500 B, 9000 B and 64 KiB, reported as bytes/s.
//
// Each benchmark is named checksum/<implementation>/<size>; run.sh turns the JSON into a table.
// The call goes through a Checksum& (a virtual call), as in the stack. Buffers are warm in cache:
// this measures the summing loop, not memory bandwidth. A simd path the CPU lacks is left out
// with a note on stderr.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fast_checksum.hpp"
#include "netloom/checksum.hpp"
#include "ref_checksum.hpp"
#include "simd_checksum.hpp"

namespace {

using netloom::Checksum;
namespace cs = netloom::checksum;

struct Implementation {
    std::string name;
    std::unique_ptr<Checksum> checksum;
};

constexpr std::size_t kSizes[] = {64, 1500, 9000, 64 << 10};

void bench_finish(benchmark::State& state, const Checksum* checksum, std::size_t size) {
    std::vector<std::uint8_t> buffer(size);
    std::mt19937 rng(static_cast<std::uint32_t>(size));
    for (auto& byte : buffer) byte = static_cast<std::uint8_t>(rng());
    for (auto _ : state) {
        benchmark::DoNotOptimize(buffer.data());
        std::uint16_t result = checksum->finish(buffer);
        benchmark::DoNotOptimize(result);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(size));
    state.SetLabel(checksum->variant());
}

std::vector<Implementation> available_implementations() {
    std::vector<Implementation> implementations;
    implementations.push_back({"ref", std::make_unique<cs::RefChecksum>()});
    implementations.push_back({"fast", std::make_unique<cs::FastChecksum>()});
    const cs::SimdCpuFeatures cpu = cs::detect_simd_features();
    for (const cs::SimdPath path : {cs::SimdPath::avx2, cs::SimdPath::avx512}) {
        const std::string name = std::string("simd-") + cs::to_string(path);
        if (cs::supports(cpu, path)) {
            implementations.push_back({name, std::make_unique<cs::SimdChecksum>(path)});
        } else {
            std::fprintf(stderr, "note: %s left out: this CPU lacks it\n", name.c_str());
        }
    }
    return implementations;
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    const std::vector<Implementation> implementations = available_implementations();
    for (const Implementation& implementation : implementations) {
        for (const std::size_t size : kSizes) {
            const std::string name = "checksum/" + implementation.name + "/" + std::to_string(size);
            benchmark::RegisterBenchmark(name.c_str(), bench_finish, implementation.checksum.get(),
                                         size);
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
