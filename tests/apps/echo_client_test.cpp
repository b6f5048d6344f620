// The echo app's checking client (role: client, formerly tcp_echo) against its server, and the
// server's half-close handling, on FakeTcpEngine (in-memory loopback with small buffers).
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "data_stream.hpp"
#include "echo.hpp"
#include "fake_ip_layer.hpp"
#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "server_client_run.hpp"
#include "sha256.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::TcpConnection;
using netloom::TcpError;
using netloom::TcpState;
using netloom::apps::make_echo;
using netloom::testing::counter;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;

namespace {

struct EchoRun : netloom::testing::ServerClientRun {
    explicit EchoRun(FakeTcpEngine::Options options = {})
        : ServerClientRun(make_echo, kOwn, "role: server\nport: 7\n", options) {}
};

}  // namespace

TEST_CASE("echo server: echoes every byte, then closes after the peer's half-close") {
    EchoRun run;
    run.start_server();
    run.sched.run_until_idle();
    auto connection = run.tcp.connect({kOwn, 7}, {});
    std::vector<std::uint8_t> sent(20'000), received;
    netloom::apps::DataStream(5).fill(sent);
    std::size_t offset = 0;
    bool shut = false;
    // Drive the client side by hand: send what the (small) send buffer takes, read the echo.
    for (int turn = 0; turn < 100'000 && !connection->eof(); ++turn) {
        if (offset < sent.size()) {
            offset += connection->send(std::span<const std::uint8_t>(sent).subspan(offset));
        } else if (!shut) {
            connection->shutdown_write();
            shut = true;
        }
        std::uint8_t buffer[700];
        for (std::size_t n; (n = connection->recv(buffer)) > 0;) {
            received.insert(received.end(), buffer, buffer + n);
        }
        run.sched.advance(50us);
    }
    REQUIRE(connection->eof());
    CHECK(received == sent);
    run.sched.advance(1ms);
    // We sent the first FIN, the server's FIN answered it: we are in TIME-WAIT, cleanly.
    CHECK(connection->error() == TcpError::none);
    CHECK(connection->state() == TcpState::time_wait);
    CHECK(counter(*run.server, "connections") == 1);
    CHECK(counter(*run.server, "completed") == 1);
    CHECK(counter(*run.server, "errors") == 0);
    CHECK(counter(*run.server, "bytes_received") == sent.size());
    CHECK(counter(*run.server, "bytes_sent") == sent.size());
    CHECK(counter(*run.server, "connections_current") == 0);  // its coroutine ended
}

TEST_CASE("echo server: does not close while the peer has not half-closed") {
    EchoRun run;
    run.start_server();
    run.sched.run_until_idle();
    auto connection = run.tcp.connect({kOwn, 7}, {});
    run.sched.advance(1ms);
    const std::uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
    REQUIRE(connection->send(hello) == 5);
    run.sched.advance(10ms);
    std::uint8_t back[16];
    REQUIRE(connection->recv(back) == 5);
    CHECK(std::equal(hello, hello + 5, back));
    CHECK_FALSE(connection->eof());
    CHECK(connection->state() == TcpState::established);
    CHECK(counter(*run.server, "connections_current") == 1);
}

TEST_CASE("echo client and server: parallel connections echo intact") {
    EchoRun run;
    run.start_server();
    run.run_client(
        "role: client\ntarget: 10.0.0.2\nport: 7\nbytes: 50000\nseed: 3\nconnections: 5\n"
        "parallel: 2\n");
    REQUIRE(run.status == 0);
    const auto& c = static_cast<netloom::apps::EchoClient&>(*run.client).counters();
    CHECK(c.connections_ok == 5);
    CHECK(c.connections_failed == 0);
    CHECK(c.bytes_sent == 5 * 50000);
    CHECK(c.bytes_received == 5 * 50000);
    // The client is done in TIME-WAIT; the server's side closes when our last ACK arrives.
    run.sched.advance(1ms);
    CHECK(counter(*run.server, "completed") == 5);
    CHECK(counter(*run.server, "connections_current") == 0);
    CHECK(run.tcp.live_links() <= 5);  // closed ones are gone once both objects are
}

TEST_CASE("echo client: a byte flipped in the echo fails the run") {
    EchoRun run;
    std::uint64_t flipped = 0;
    run.tcp.mangle = [&](bool from_client, std::uint64_t offset, std::span<std::uint8_t> bytes) {
        // Flip stream byte 12345 on its way back from the server.
        if (!from_client && offset <= 12345 && 12345 < offset + bytes.size()) {
            bytes[12345 - offset] ^= 0x20;
            ++flipped;
        }
    };
    run.start_server();
    run.run_client("role: client\ntarget: 10.0.0.2\nport: 7\nbytes: 40000\n");
    REQUIRE(flipped == 1);
    REQUIRE(run.status == 1);
    const auto& c = static_cast<netloom::apps::EchoClient&>(*run.client).counters();
    CHECK(c.corrupt == 1);
    CHECK(c.connections_failed == 1);
    CHECK(c.bytes_received == 40000);  // same length: only the digest can tell
}

TEST_CASE("echo client: no server on the port is a failure, not a hang") {
    EchoRun run;
    run.run_client("role: client\ntarget: 10.0.0.2\nport: 9\nbytes: 1000\n");
    REQUIRE(run.status == 1);
    const auto& c = static_cast<netloom::apps::EchoClient&>(*run.client).counters();
    CHECK(c.errors == 1);
    CHECK(c.connections_failed == 1);
}

TEST_CASE("echo: role keys and config errors") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return make_echo(Config::load_string(yaml, "test.yaml"), env);
    };
    CHECK_THROWS_AS(build("role: client\nport: 7\n"), ConfigError);  // no target
    CHECK_THROWS_AS(build("role: talker\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.x\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nbytes: lots\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ntarget: 10.0.0.2\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\nport: 0\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\nprot: 7\n"), ConfigError);  // typo: unknown key
    CHECK_NOTHROW(build("role: server\n"));
    CHECK_NOTHROW(build("port: 7\n"));  // role defaults to server
    CHECK_FALSE(build("{}\n")->finite());
    CHECK(build("role: client\ntarget: 10.0.0.2\n")->finite());
    const auto message = [&](const std::string& yaml) -> std::string {
        try {
            build(yaml);
        } catch (const ConfigError& e) {
            return e.what();
        }
        FAIL("no ConfigError for: " << yaml);
        return {};
    };
    CHECK_THAT(message("role: client\nport: 7\n"), Catch::Contains("target"));
    // A key of the other role says so, rather than "unknown key".
    CHECK_THAT(message("role: client\ntarget: 10.0.0.2\nmax_connections: 5\n"),
               Catch::Contains("`max_connections` is a server key"));
    CHECK_THAT(message("role: client\ntarget: 10.0.0.2\ntransport: udp\n"),
               Catch::Contains("`transport` is a server key"));
    CHECK_THAT(message("bytes: 5\n"), Catch::Contains("`bytes` is a client key"));
    // A stack without tcp: is an error the host turns into a config error at the app's line.
    TcpAppTestEnv no_tcp(sched, nullptr);
    CHECK_THROWS_AS(make_echo(Config::load_string("role: server\n", "t.yaml"), no_tcp),
                    std::logic_error);
}
