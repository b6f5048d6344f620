// The one translation unit that holds Catch2's main(), which also turns a run whose cases
// skipped (skip.hpp) into kSkipExitCode for CTest.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>

#include "skip.hpp"

namespace netloom::test {
namespace {

std::size_t skips = 0;

const char* kind_name(SkipKind kind) {
    switch (kind) {
        case SkipKind::cpu: return "cpu";
        case SkipKind::root: return "root";
        case SkipKind::device: return "device";
        case SkipKind::tool: return "tool";
        case SkipKind::plugin: return "plugin";
    }
    return "unknown";
}

}  // namespace

void record_skip(SkipKind kind, const std::string& message) {
    ++skips;
    std::cout << "SKIP(" << kind_name(kind) << "): " << message << " ["
              << Catch::getResultCapture().getCurrentTestName() << "]" << std::endl;
}

std::size_t skipped_cases() noexcept {
    return skips;
}

}  // namespace netloom::test

int main(int argc, char* argv[]) {
    const int failed = Catch::Session().run(argc, argv);
    if (failed != 0 || netloom::test::skipped_cases() == 0) return failed;
    std::cout << netloom::test::skipped_cases() << " test case(s) skipped: exit "
              << netloom::test::kSkipExitCode << " (skipped)" << std::endl;
    return netloom::test::kSkipExitCode;
}
