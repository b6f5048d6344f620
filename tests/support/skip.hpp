// How a unit test says it cannot run on this machine, so that CTest reports it as skipped and
// never as passed.
//
// Contract: NETLOOM_SKIP(kind, message) prints one line `SKIP(<kind>): <message> [<test case>]`,
// records the skip and returns from the enclosing function, so it belongs in the body of a
// TEST_CASE, before its first assertion. The test binary's main (catch_main.cpp) then exits with
// kSkipExitCode if any case skipped and none failed; every unit test carries
// SKIP_RETURN_CODE kSkipExitCode (tests/CMakeLists.txt), and CTest runs one case per process,
// so the case shows as "Skipped". The kinds are those of tests/support/skips.py (tests/README.md):
// `cpu` (a missing CPU feature, the only skip allowed on CI), `root`, `device`, `tool`, `plugin`.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>

namespace netloom::test {

inline constexpr int kSkipExitCode = 77;  // also tests/support/skips.py

enum class SkipKind { cpu, root, device, tool, plugin };

// Prints the skip line and counts the skip; the caller returns from the test case right after
// (NETLOOM_SKIP does both, for a kind known where it is written).
void record_skip(SkipKind kind, const std::string& message);

// How many test cases of this run skipped.
std::size_t skipped_cases() noexcept;

}  // namespace netloom::test

#define NETLOOM_SKIP(kind, message)                                   \
    do {                                                              \
        std::ostringstream netloom_skip_message_;                     \
        netloom_skip_message_ << message;                             \
        ::netloom::test::record_skip(::netloom::test::SkipKind::kind, \
                                     netloom_skip_message_.str());    \
        return;                                                       \
    } while (false)
