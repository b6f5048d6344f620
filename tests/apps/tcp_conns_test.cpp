// tcp_conns client and server on FakeTcpEngine: pacing, the memory measurement, close, config.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "fake_ip_layer.hpp"
#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "sanitizers.hpp"
#include "tcp_conns.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Time;
using netloom::apps::make_tcp_conns;
using netloom::apps::TcpConnsClient;
using netloom::testing::counter;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;

namespace {}  // namespace

TEST_CASE("tcp_conns: paced connects, the idle measurement, hold, close") {
    const auto report_path = std::filesystem::temp_directory_path() /
                             ("netloom_tcp_conns_" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(report_path);
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    auto server = make_tcp_conns(Config::load_string("role: server\nport: 5002\n", "s"), env);
    auto client = make_tcp_conns(
        Config::load_string("role: client\ntarget: 10.0.0.2\nport: 5002\ncount: 300\n"
                            "burst: 16\nsettle: 10ms\nhold: 2s\nreport: " +
                                report_path.string() + "\n",
                            "c"),
        env);
    REQUIRE(client->finite());
    REQUIRE_FALSE(server->finite());
    std::optional<int> status;
    server->start([](int) { FAIL("a server never finishes"); });
    client->start([&](int s) {
        status = s;
        sched.stop();
    });

    // All established and settled well before 1 s; the hold lasts until past 2 s.
    sched.advance_to(Time{1s});
    REQUIRE_FALSE(status);
    const auto& measured = static_cast<TcpConnsClient&>(*client).measurement();
    REQUIRE(measured.established == 300);
    CHECK(tcp.connecting_peak() <= 16);
    CHECK(tcp.connecting_peak() >= 2);  // pacing, not one at a time
    CHECK(counter(*server, "connections_current") == 300);
    // The engine held nothing before; now all of it is the idle connections' (one fake link
    // holds both ends here).
    CHECK(measured.engine_bytes == tcp.memory_in_use());
    CHECK(measured.engine_bytes_per_connection() * 300 == Approx(tcp.memory_in_use()));
#if !NETLOOM_ASAN
    CHECK(measured.heap_bytes > 0);  // ASan replaces malloc: mallinfo2() then reports nothing
#endif

    sched.run();
    REQUIRE(status == 0);
    CHECK(counter(*client, "closed") == 300);
    CHECK(counter(*client, "failed") == 0);
    CHECK(counter(*server, "closed") == 300);
    CHECK(counter(*server, "connections_current") == 0);

    std::ifstream in(report_path);
    REQUIRE(in.good());
    const auto report = nlohmann::json::parse(in);
    std::filesystem::remove(report_path);
    CHECK(report["established"] == 300);
    CHECK(report["engine_bytes"] == measured.engine_bytes);
    CHECK(report["engine_bytes_per_connection"].get<double>() ==
          Approx(measured.engine_bytes_per_connection()));
    CHECK(report["hold_seconds"].get<double>() == Approx(2.0));
    CHECK(report["error"].is_null());
}

TEST_CASE("tcp_conns: connections refused make the run fail after every attempt") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    auto client = make_tcp_conns(
        Config::load_string("role: client\ntarget: 10.0.0.2\ncount: 20\nburst: 5\nhold: 0s\n", "c"),
        env);
    std::optional<int> status;
    client->start([&](int s) { status = s; });
    sched.run();
    REQUIRE(status == 1);
    CHECK(counter(*client, "failed") == 20);
    CHECK(counter(*client, "established") == 0);
    CHECK(tcp.connecting_peak() <= 5);
}

TEST_CASE("tcp_conns: config errors") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return make_tcp_conns(Config::load_string(yaml, "test.yaml"), env);
    };
    CHECK_THROWS_AS(build("role: client\ncount: 10\n"), ConfigError);  // no target
    CHECK_THROWS_AS(build("role: listener\n"), ConfigError);
    CHECK_THROWS_AS(build("target: 10.0.0.2\ncount: 0\n"), ConfigError);
    CHECK_THROWS_AS(build("target: 10.0.0.2\nburst: 0\n"), ConfigError);
    CHECK_THROWS_AS(build("target: 10.0.0.2\nhold: -1s\n"), ConfigError);
    CHECK_THROWS_AS(build("target: 10.0.0.2\nclose_timeout: 0s\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ncount: 10\n"), ConfigError);
    CHECK_NOTHROW(build("target: 10.0.0.2\n"));
    CHECK_NOTHROW(build("role: server\n"));
}
