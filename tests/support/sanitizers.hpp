// sanitizers.hpp — NETLOOM_ASAN: 1 when the test is built with AddressSanitizer (the CI's
// sanitizer tree, -O0), for tests that scale a large workload down there or skip a measurement
// the sanitizer distorts. GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define NETLOOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NETLOOM_ASAN 1
#endif
#endif
#ifndef NETLOOM_ASAN
#define NETLOOM_ASAN 0
#endif
