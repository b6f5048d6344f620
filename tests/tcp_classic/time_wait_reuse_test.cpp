// TIME-WAIT reuse by connect() in tcp_classic (the cases shared with tcp_utcp are in
// tests/support/time_wait_reuse_cases.hpp).
#include "harness.hpp"
#include "time_wait_reuse_cases.hpp"

using namespace netloom::classic::test;
namespace reuse = netloom::testing::time_wait_reuse;

TEST_CASE("classic: connect reuses a TIME-WAIT 4-tuple after 1 s, old duplicates fail PAWS",
          "[tcp_classic][time_wait]") {
    Net net("classic-tw-reuse", "{}", reuse::kClientYaml);
    reuse::reuse_after_delay_rejects_old_duplicates(net);
}

TEST_CASE("classic: without timestamps a TIME-WAIT 4-tuple waits out 2 MSL",
          "[tcp_classic][time_wait]") {
    Net net("classic-tw-no-ts", "{}", reuse::kClientYamlNoTs);
    reuse::no_reuse_without_timestamps(net);
}
