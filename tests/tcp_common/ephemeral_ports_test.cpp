// The TIME-WAIT reuse rule, the ISS of a reusing connection, the RFC 6056 port walk, the
// `ephemeral_ports` / `time_wait_reuse_delay` keys, and the engines' secrets.
#include <catch2/catch.hpp>
#include <set>

#include "netloom/tcp_common/engine_options.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/secret_seed.hpp"

using namespace netloom;
using namespace netloom::tcp;
using namespace std::chrono_literals;

namespace {

TimeWaitRecord record(bool timestamps, std::chrono::nanoseconds entered) {
    return {timestamps, /*last_tsval=*/5000, SeqNum(1000), entered, entered + 60s};
}

FourTuple tuple_to(std::uint16_t port) {
    return {wire::Ipv4Address(0x0a000001), 0, wire::Ipv4Address(0x0a000002), port};
}

}  // namespace

TEST_CASE("TIME-WAIT reuse: newer timestamps after the delay only", "[tcp_common][ports]") {
    const auto old = record(true, 10s);
    SECTION("allowed at the delay with a newer TSval") {
        const auto v = time_wait_reuse(old, 6000, 11s, 1s);
        CHECK(v.allowed);
    }
    SECTION("refused within the delay, told when") {
        const auto v = time_wait_reuse(old, 5999, 10s + 999ms, 1s);
        CHECK_FALSE(v.allowed);
        CHECK(v.retry_at == 11s);
    }
    SECTION("refused without timestamps until TIME-WAIT ends, whatever the delay") {
        const auto v = time_wait_reuse(record(false, 10s), 9999, 20s, 1s);
        CHECK_FALSE(v.allowed);
        CHECK(v.retry_at == 70s);
    }
    SECTION("refused when the new TSval is not strictly greater (RFC 6191 2)") {
        CHECK_FALSE(time_wait_reuse(old, 5000, 12s, 1s).allowed);
        CHECK_FALSE(time_wait_reuse(old, 4000, 12s, 1s).allowed);
        CHECK(time_wait_reuse(old, 5000, 12s, 1s).retry_at == 12s + 1ms);
        CHECK(time_wait_reuse(old, 5001, 12s, 1s).allowed);
    }
    SECTION("TSval comparison is modulo 2^32 (RFC 7323 5.3)") {
        TimeWaitRecord near_wrap = old;
        near_wrap.last_tsval = 0xffffff00u;
        CHECK(time_wait_reuse(near_wrap, 0x10, 12s, 1s).allowed);
        CHECK_FALSE(time_wait_reuse(near_wrap, 0x7fffff00u, 12s, 1s).allowed);
    }
    SECTION("a zero delay leaves only the timestamp rule") {
        CHECK(time_wait_reuse(old, 5001, 10s, 0s).allowed);
    }
}

TEST_CASE("a reusing connection's ISS lies beyond the old sequence space", "[tcp_common][ports]") {
    const SeqNum old_nxt(0x10000000);
    CHECK(reuse_iss(SeqNum(0x20000000), old_nxt) == SeqNum(0x20000000));  // already beyond
    CHECK(reuse_iss(SeqNum(0x10000005), old_nxt) == old_nxt + 65537u);    // inside old window
    CHECK(reuse_iss(SeqNum(0x0fff0000), old_nxt) == old_nxt + 65537u);    // behind
    CHECK(reuse_iss(SeqNum(5), SeqNum(0xffffff00u)) == SeqNum(0xffffff00u) + 65537u);  // wraps
}

TEST_CASE("the port walk: range, free ports, busy ports, TIME-WAIT", "[tcp_common][ports]") {
    const SipKey key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    SECTION("every port comes from the range, each once before any repeats") {
        EphemeralPorts ports(40000, 40009, key, 7);
        std::set<std::uint16_t> seen;
        for (int i = 0; i < 10; ++i) {
            auto r = ports.choose(tuple_to(80), 0s, 1s, [](const FourTuple&) {
                return PortCandidate{PortCandidate::Kind::free};
            });
            REQUIRE(r.choice);
            CHECK(r.choice->port >= 40000);
            CHECK(r.choice->port <= 40009);
            CHECK_FALSE(r.choice->reused);
            seen.insert(r.choice->port);
        }
        CHECK(seen.size() == 10);
    }
    SECTION("busy ports are skipped; all busy: no retry time") {
        EphemeralPorts ports(40000, 40003, key, 0);
        auto r = ports.choose(tuple_to(80), 0s, 1s, [](const FourTuple& t) {
            return PortCandidate{t.local_port == 40002 ? PortCandidate::Kind::free
                                                       : PortCandidate::Kind::busy};
        });
        REQUIRE(r.choice);
        CHECK(r.choice->port == 40002);
        auto none = ports.choose(tuple_to(80), 0s, 1s, [](const FourTuple&) {
            return PortCandidate{PortCandidate::Kind::busy};
        });
        CHECK_FALSE(none.choice);
        CHECK_FALSE(none.retry_at);
    }
    SECTION("TIME-WAITs not yet reusable give the earliest retry time") {
        EphemeralPorts ports(40000, 40003, key, 0);
        auto r = ports.choose(tuple_to(80), 10s, 1s, [](const FourTuple& t) {
            PortCandidate c{PortCandidate::Kind::time_wait};
            c.time_wait = record(true, 9s + std::chrono::milliseconds(1 + t.local_port - 40000));
            c.new_tsval = 6000;
            return c;
        });
        CHECK_FALSE(r.choice);
        REQUIRE(r.retry_at);
        CHECK(*r.retry_at == 10s + 1ms);  // port 40000's TIME-WAIT began at 9.001 s
        auto later = ports.choose(tuple_to(80), 10s + 1ms, 1s, [](const FourTuple& t) {
            PortCandidate c{PortCandidate::Kind::time_wait};
            c.time_wait = record(true, 9s + std::chrono::milliseconds(1 + t.local_port - 40000));
            c.new_tsval = 6000;
            return c;
        });
        REQUIRE(later.choice);
        REQUIRE(later.choice->reused);
        CHECK(later.choice->port == 40000);
    }
    SECTION("one destination's ports say nothing of another's start (RFC 6056 3.3.3)") {
        EphemeralPorts a(1024, 65535, key, 0), b(1024, 65535, key, 0);
        const auto free = [](const FourTuple&) { return PortCandidate{PortCandidate::Kind::free}; };
        const auto pa = a.choose(tuple_to(80), 0s, 1s, free).choice->port;
        const auto pb = b.choose(tuple_to(443), 0s, 1s, free).choice->port;
        CHECK(pa != pb);
    }
}

TEST_CASE("ephemeral_ports and time_wait_reuse_delay keys", "[tcp_common][ports]") {
    const auto read = [](const char* yaml) {
        return read_engine_options(Config::load_string(yaml, "tcp.yaml"));
    };
    const EngineOptions defaults = read("{}");
    CHECK(defaults.ephemeral_first == 32768);  // Linux's ip_local_port_range
    CHECK(defaults.ephemeral_last == 60999);
    CHECK(defaults.time_wait_reuse_delay == 1s);
    const EngineOptions set = read("{ephemeral_ports: 1024-2047, time_wait_reuse_delay: 10ms}");
    CHECK(set.ephemeral_first == 1024);
    CHECK(set.ephemeral_last == 2047);
    CHECK(set.time_wait_reuse_delay == 10ms);
    CHECK(read("{ephemeral_ports: 5000-5000}").ephemeral_last == 5000);
    for (const char* bad :
         {"{ephemeral_ports: 2000-1000}", "{ephemeral_ports: 0-100}", "{ephemeral_ports: 1-65536}",
          "{ephemeral_ports: 1000}", "{ephemeral_ports: a-b}", "{ephemeral_ports: 1000-}",
          "{ephemeral_ports: -1000}", "{ephemeral_ports: 1000-2000x}",
          "{time_wait_reuse_delay: -1s}", "{time_wait_reuse_delay: 2h}"}) {
        INFO(bad);
        try {
            read(bad);
            FAIL("accepted");
        } catch (const ConfigError& e) {
            CHECK(e.mark().to_string().rfind("tcp.yaml:1:", 0) == 0);
        }
    }
}

TEST_CASE("engine secrets: distinct keys, random on a real clock, derived in simulation",
          "[tcp_common][secrets]") {
    const EngineSecrets a = draw_engine_secrets(std::nullopt);
    const EngineSecrets b = draw_engine_secrets(std::nullopt);
    CHECK(a.isn_key != b.isn_key);  // 2^-128 to fail by chance
    CHECK(a.isn_key != a.cookie_key);
    CHECK(a.isn_key != a.port_key);
    CHECK(a.isn_key != a.ts_key);
    CHECK(a.cookie_key != a.port_key);
    const EngineSecrets s1 = draw_engine_secrets(42), s2 = draw_engine_secrets(42),
                        s3 = draw_engine_secrets(43);
    CHECK(s1.isn_key == s2.isn_key);
    CHECK(s1.cookie_key == s2.cookie_key);
    CHECK(s1.port_counter == s2.port_counter);
    CHECK(s1.isn_key != s3.isn_key);
    CHECK(s1.isn_key != s1.cookie_key);
}
