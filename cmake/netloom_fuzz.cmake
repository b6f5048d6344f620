# NETLOOM_FUZZ=ON: libFuzzer targets (tests/fuzz) in an ASan+UBSan tree built with clang.
#
# libFuzzer ships with clang (Debian: libclang-rt-14-dev, installed by scripts/setup.sh). The
# whole tree is sanitized (NETLOOM_SANITIZE is forced on), so the unit tests of the same tree run
# under the same sanitizers: one tree does both jobs in CI (scripts/test.sh, build-asan).
# Coverage instrumentation (-fsanitize=fuzzer-no-link) is added only to the libraries under fuzz
# (netloom_fuzz_instrument, called by tests/fuzz/CMakeLists.txt), not to the unit tests: the
# sanitizer runtime defines the coverage callbacks as no-ops, so unit tests linking an
# instrumented library need nothing more.
if(NOT NETLOOM_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "NETLOOM_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
endif()
if(NOT NETLOOM_TESTS OR NETLOOM_STATIC)
  message(FATAL_ERROR "NETLOOM_FUZZ needs NETLOOM_TESTS=ON and NETLOOM_STATIC=OFF (the targets reuse tests/support)")
endif()
set(NETLOOM_SANITIZE ON CACHE BOOL "" FORCE)

# Seconds each target fuzzes as a CTest test (labels unit;fuzz, run by the ASan step of
# scripts/test.sh); scripts/fuzz.sh runs them longer.
set(NETLOOM_FUZZ_CTEST_SECONDS 30 CACHE STRING "Seconds each fuzz target runs as a CTest test")

# netloom_fuzz_instrument(<target>...): coverage feedback for libFuzzer in these libraries.
function(netloom_fuzz_instrument)
  foreach(target ${ARGN})
    if(TARGET ${target})
      target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
  endforeach()
endfunction()
