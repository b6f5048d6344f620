// The counters both engines report: the same names, each once, so configs, dashboards and the
// A/B harness read either engine alike (issue 13: one counter list).
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

/// Every name `engine` reports, with how many times it reported it.
std::map<std::string, int> counter_names(const TcpEngine& engine) {
    std::map<std::string, int> names;
    engine.visit_counters(
        [&](std::string_view name, std::uint64_t) { ++names[std::string(name)]; });
    return names;
}

}  // namespace

TEST_CASE("both engines report the same counter names, each once", "[tcp_engines][counters]") {
    Net utcp("tcp_utcp", "counters");
    Net classic("tcp_classic", "counters");
    // After some traffic, so that counters reported only once used are there too.
    for (Net* net : {&utcp, &classic}) {
        Established e(*net, 80);
        exchange(*net, *e.client, *e.server, generated(10000, 1), generated(10000, 2));
    }
    const auto u = counter_names(utcp.server.engine);
    const auto c = counter_names(classic.server.engine);
    CHECK(u.size() >= 30);
    for (const auto& [name, times] : u) {
        INFO("tcp_utcp counter " << name);
        CHECK(times == 1);
        CHECK(c.contains(name));
    }
    for (const auto& [name, times] : c) {
        INFO("tcp_classic counter " << name);
        CHECK(times == 1);
        CHECK(u.contains(name));
    }
}
