// The `tcp:` section as each engine reads it: the keys and their bounds (64-bit sizes, positive
// durations, RFC 1122 4.2.3.2's 500 ms delayed-ACK bound); a bad value is a ConfigError at its
// key. That both engines end with the same effective values is engine_defaults_test.cpp.
#include <catch2/catch.hpp>
#include <string>

#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

template <typename Engine>
tcp::EngineOptions parse(const std::string& yaml) {
    return read_tcp_engine_options(Engine::name, Config::load_string(yaml, "tcp.yaml"));
}

}  // namespace

TEMPLATE_TEST_CASE("config: sizes, congestion control, MSL and backlog are read",
                   "[tcp_engines][config]", TCP_ENGINES) {
    const auto config =
        parse<TestType>("{mss: 1400, cc: newreno, rcvbuf: 64KiB, msl: 1s, backlog: 3}");
    CHECK(config.mss == 1400);
    CHECK_FALSE(config.cubic);
    CHECK(config.rcvbuf == 65536);
    CHECK(config.msl == std::chrono::seconds(1));
    CHECK(config.backlog == 3);
    CHECK(parse<TestType>("{rcvbuf: 1MiB, cc: newreno}").rcvbuf == 1u << 20);
}

TEMPLATE_TEST_CASE("config: the timer keys are read", "[tcp_engines][config]", TCP_ENGINES) {
    const auto e = parse<TestType>(
        "{delayed_ack: false, delack_timeout: 100ms, fin_wait_2_timeout: 5s, keepalive: true, "
        "keepalive_idle: 30s, keepalive_interval: 2s, keepalive_count: 4, max_time_wait: 7}");
    CHECK_FALSE(e.delayed_ack);
    CHECK(e.delack_timeout == 100ms);
    CHECK(e.fin_wait_2_timeout == 5s);
    CHECK(e.keepalive);
    CHECK(e.keepalive_idle == 30s);
    CHECK(e.keepalive_interval == 2s);
    CHECK(e.keepalive_count == 4);
    CHECK(e.max_time_wait == 7);
}

TEMPLATE_TEST_CASE("config values out of range are errors at their key", "[tcp_engines][config]",
                   TCP_ENGINES) {
    const char* const bad =
        GENERATE("{cc: vegas}", "{rcvbuf: 10}", "{rcvbuf: 4GiB}",
                 "{rcvbuf: 4194368KiB}",  // 4 GiB + 64 KiB
                 "{sndbuf: 512}", "{sndbuf: 4194305KiB}",
                 "{delack_timeout: 600ms}",  // RFC 1122 4.2.3.2
                 "{delack_timeout: 1s}", "{msl: 0s}", "{rto_min: 0s}", "{rto_initial: 0s}",
                 "{keepalive_interval: 0s}", "{keepalive_count: 0}");
    CAPTURE(bad);
    CHECK_THROWS_AS(parse<TestType>(bad), ConfigError);
}

TEMPLATE_TEST_CASE("config: memory_limit is read, 0 is unlimited, the default is 1 GiB",
                   "[tcp_engines][config][memory_budget]", TCP_ENGINES) {
    CHECK(parse<TestType>("{}").memory_limit == std::uint64_t{1} << 30);
    CHECK(parse<TestType>("{memory_limit: 0}").memory_limit == 0);
    CHECK(parse<TestType>("{memory_limit: 64MiB}").memory_limit == std::uint64_t{64} << 20);
    // The minimum follows the buffers: 4 x (max(rcvbuf, sndbuf) + the slack and slice table).
    const std::uint64_t min = tcp::min_memory_limit(4096, 4096);
    CHECK(parse<TestType>("{rcvbuf: 4KiB, sndbuf: 4KiB, memory_limit: " + std::to_string(min) + "}")
              .memory_limit == min);
}

TEMPLATE_TEST_CASE("config: a memory_limit below the buffers' minimum or past 1 TiB is an error",
                   "[tcp_engines][config][memory_budget]", TCP_ENGINES) {
    const std::string bad =
        GENERATE(std::string("{rcvbuf: 4KiB, sndbuf: 4KiB, memory_limit: ") +
                     std::to_string(tcp::min_memory_limit(4096, 4096) - 1) + "}",
                 std::string("{memory_limit: 1MiB}"),  // default buffers
                 std::string("{memory_limit: 1025GiB}"));
    CAPTURE(bad);
    try {
        parse<TestType>(bad);
        FAIL("no ConfigError");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::Contains("memory_limit must be 0 (unlimited) or"));
        CHECK_THAT(what, Catch::Contains("tcp.yaml:1:"));  // file:line:column of the value
    }
}
