// TIME-WAIT reuse by connect() in tcp_utcp (the cases shared with tcp_classic are in
// tests/support/time_wait_reuse_cases.hpp).
#include "shell_fixture.hpp"
#include "time_wait_reuse_cases.hpp"

using namespace netloom::testing;
namespace reuse = netloom::testing::time_wait_reuse;

TEST_CASE("utcp: connect reuses a TIME-WAIT 4-tuple after 1 s, old duplicates fail PAWS",
          "[tcp_utcp][shell][time_wait]") {
    Net net("utcp-tw-reuse", "{}", reuse::kClientYaml);
    reuse::reuse_after_delay_rejects_old_duplicates(net);
}

TEST_CASE("utcp: without timestamps a TIME-WAIT 4-tuple waits out 2 MSL",
          "[tcp_utcp][shell][time_wait]") {
    Net net("utcp-tw-no-ts", "{}", reuse::kClientYamlNoTs);
    reuse::no_reuse_without_timestamps(net);
}
