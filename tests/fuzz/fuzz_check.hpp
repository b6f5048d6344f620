// fuzz_check.hpp — what the libFuzzer targets of tests/fuzz share: FUZZ_CHECK, an invariant that
// aborts (libFuzzer then saves the input as a crash) with the failed condition and its place.
//
// Contract: FUZZ_CHECK(condition) evaluates `condition` once, in every build type (no NDEBUG
// escape), and on false prints "FUZZ_CHECK failed: <text> at <file>:<line>" to stderr and calls
// std::abort().
#pragma once

#include <cstdio>
#include <cstdlib>

namespace netloom::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", condition, file, line);
    std::abort();
}

}  // namespace netloom::fuzz

#define FUZZ_CHECK(condition) \
    ((condition) ? (void)0 : ::netloom::fuzz::check_failed(#condition, __FILE__, __LINE__))
