// udp_echo server and client on FakeIpLayer (loopback with latency and fault hooks).
#include <catch2/catch.hpp>

#include <optional>

#include "fake_ip_layer.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "netloom/wire/bytes.hpp"
#include "test_addresses.hpp"
#include "udp_echo.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Time;
using netloom::apps::make_udp_echo;
using netloom::testing::AppTestEnv;
using netloom::testing::counter;
using netloom::testing::FakeIpLayer;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;

namespace {

std::unique_ptr<App> build(const std::string& yaml, AppTestEnv& env) {
    return make_udp_echo(Config::load_string(yaml, "test.yaml"), env);
}

std::uint32_t sequence_of(const std::vector<std::uint8_t>& bytes) {
    return bytes.size() >= 8 ? netloom::wire::load_be32(bytes.data() + 4) : 0;
}

struct EchoRun {
    explicit EchoRun(Time latency = 100us) : ip(sched, kOwn, latency) {}
    ManualScheduler sched;
    FakeIpLayer ip;
    AppTestEnv env{sched, &ip};
    std::unique_ptr<App> server;
    std::unique_ptr<App> client;
    std::optional<int> status;

    void start(const std::string& client_yaml, bool with_server = true) {
        if (with_server) {
            server = build("role: server\nport: 7\n", env);
            server->start([](int) { FAIL("a server never finishes"); });
        }
        client = build(client_yaml, env);
        REQUIRE(client->finite());
        client->start([this](int s) {
            REQUIRE_FALSE(status);  // exactly once
            status = s;
            sched.stop();
        });
        sched.run();
    }
};

const char* kClient20 = "role: client\ntarget: 10.0.0.2\ncount: 20\nsize: 100\ninterval: 1ms\n";

}  // namespace

TEST_CASE("udp_echo: every echo comes back intact, RTT is the path's") {
    EchoRun run;
    run.start(kClient20);
    REQUIRE(run.status == 0);
    CHECK(counter(*run.client, "sent") == 20);
    CHECK(counter(*run.client, "received") == 20);
    CHECK(counter(*run.client, "lost") == 0);
    CHECK(counter(*run.client, "corrupt") == 0);
    CHECK(counter(*run.client, "rtt_us_min") == 200);
    CHECK(counter(*run.client, "rtt_us_median") == 200);
    CHECK(counter(*run.client, "rtt_us_max") == 200);
    CHECK(counter(*run.server, "received") == 20);
    CHECK(counter(*run.server, "echoed") == 20);
    CHECK(counter(*run.server, "received_bytes") == 2000);
    CHECK_FALSE(run.server->finite());
    // Datagram 20 leaves at 19 ms (one per interval, not one per echo); its echo ends the run.
    CHECK(run.sched.now() == Time{19ms + 200us});
}

TEST_CASE("udp_echo: a datagram lost on the way fails the run after its timeout") {
    EchoRun run;
    bool dropped = false;
    run.ip.mangle = [&](std::vector<std::uint8_t>& bytes) {
        if (sequence_of(bytes) == 3 && !dropped) return dropped = true, 0;
        return 1;
    };
    run.start(kClient20);
    REQUIRE(run.status == 1);
    CHECK(counter(*run.client, "received") == 19);
    CHECK(counter(*run.client, "lost") == 1);
    // Datagram 3 left at 2 ms; the client waits its full 1 s timeout for it.
    CHECK(run.sched.now() == Time{2ms + 1s});
}

TEST_CASE("udp_echo: an echo with a changed byte counts as corrupt and fails the run") {
    EchoRun run;
    int seen = 0;
    run.ip.mangle = [&](std::vector<std::uint8_t>& bytes) {
        if (sequence_of(bytes) == 5 && ++seen == 2) bytes[50] ^= 0x01;  // on the way back
        return 1;
    };
    run.start(kClient20);
    REQUIRE(run.status == 1);
    CHECK(counter(*run.client, "corrupt") == 1);
    CHECK(counter(*run.client, "received") == 19);
    CHECK(counter(*run.client, "lost") == 0);  // it came back, broken: not lost
}

TEST_CASE("udp_echo: duplicated echoes are counted and do not fail the run") {
    EchoRun run;
    run.ip.mangle = [&](std::vector<std::uint8_t>& bytes) {
        return sequence_of(bytes) == 7 ? 2 : 1;
    };
    run.start(kClient20);
    REQUIRE(run.status == 0);
    CHECK(counter(*run.client, "received") == 20);
    // Duplicated both ways: the server echoes two copies, each duplicated on the way back.
    CHECK(counter(*run.client, "duplicates") == 3);
}

TEST_CASE("udp_echo: echoes after the timeout are late, not received") {
    // RTT 2 ms against a 1 ms timeout: every datagram is lost, the echoes of the first two
    // arrive while the client still runs.
    EchoRun run(1ms);
    run.start("role: client\ntarget: 10.0.0.2\ncount: 3\ninterval: 5ms\ntimeout: 1ms\n");
    REQUIRE(run.status == 1);
    CHECK(counter(*run.client, "lost") == 3);
    CHECK(counter(*run.client, "late") == 2);
    CHECK(counter(*run.client, "received") == 0);
    CHECK(run.sched.now() == Time{11ms});
}

TEST_CASE("udp_echo: with no server the client sees port unreachable and loses everything") {
    EchoRun run;
    run.start("role: client\ntarget: 10.0.0.2\ncount: 4\ninterval: 1ms\ntimeout: 50ms\n", false);
    REQUIRE(run.status == 1);
    CHECK(counter(*run.client, "lost") == 4);
    CHECK(counter(*run.client, "icmp_errors") >= 1);
}

TEST_CASE("udp_echo: a client whose datagrams the IP layer refuses fails") {
    EchoRun run;
    run.start("role: client\ntarget: 10.9.9.9\ncount: 3\ninterval: 0ms\n");  // no route in the fake
    REQUIRE(run.status == 1);
    CHECK(counter(*run.client, "send_failed") == 3);
    CHECK(counter(*run.client, "sent") == 0);
}

TEST_CASE("udp_echo: destroying a running server frees its socket and coroutine") {
    ManualScheduler sched;
    FakeIpLayer ip(sched, kOwn, 100us);
    AppTestEnv env(sched, &ip);
    auto server = build("role: server\nport: 7\n", env);
    server->start([](int) {});
    sched.run_until_idle();
    CHECK(ip.bound_sockets() == 1);
    server.reset();
    CHECK(ip.bound_sockets() == 0);
    sched.advance(1s);  // nothing left to resume
}

TEST_CASE("udp_echo: a taken port fails at start with the port in the message") {
    ManualScheduler sched;
    FakeIpLayer ip(sched, kOwn, 100us);
    AppTestEnv env(sched, &ip);
    auto holder = ip.udp_bind(7);
    auto server = build("role: server\n", env);
    CHECK_THROWS_WITH(server->start([](int) {}), Catch::Contains("port 7"));
}

TEST_CASE("udp_echo: config errors name the key") {
    ManualScheduler sched;
    FakeIpLayer ip(sched, kOwn, 100us);
    AppTestEnv env(sched, &ip);
    auto fails_at = [&](const std::string& yaml, const std::string& needle) {
        try {
            build(yaml, env);
        } catch (const ConfigError& e) {
            CHECK_THAT(e.what(), Catch::Contains(needle));
            return;
        }
        FAIL("no ConfigError for: " << yaml);
    };
    fails_at("role: server\ncount: 3\n", "count");
    fails_at("role: client\n", "target");
    fails_at("role: client\ntarget: 10.0.0\n", "target");
    fails_at("role: client\ntarget: 10.0.0.1\nsize: 4\n", "size");
    fails_at("role: client\ntarget: 10.0.0.1\nsize: 65508\n", "size");
    fails_at("role: client\ntarget: 10.0.0.1\ntimeout: 0s\n", "timeout");
    fails_at("role: client\ntarget: 10.0.0.1\ncuont: 3\n", "cuont");
    fails_at("role: relay\n", "role");
    fails_at("role: server\nport: 0\n", "port");
    AppTestEnv no_ip(sched, nullptr);
    CHECK_THROWS_AS(build("role: server\n", no_ip), std::logic_error);
}

TEST_CASE("udp_echo: the datagram pattern carries magic and sequence and differs per sequence") {
    std::vector<std::uint8_t> a(64), b(64);
    netloom::apps::fill_echo_payload(a, 1);
    netloom::apps::fill_echo_payload(b, 2);
    CHECK(std::string(a.begin(), a.begin() + 4) == "NLUE");
    CHECK(sequence_of(a) == 1);
    CHECK(sequence_of(b) == 2);
    CHECK(std::equal(a.begin() + 8, a.end(), b.begin() + 8) == false);
}
