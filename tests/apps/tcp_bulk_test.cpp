// tcp_bulk sender and receiver on FakeTcpEngine: digests, byte counts, resets, reports, config.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "data_stream.hpp"
#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "sha256.hpp"
#include "tcp_bulk.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::apps::make_tcp_bulk;
using netloom::apps::Sha256;
using netloom::apps::TcpBulkApp;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;

namespace {

std::string expected_sha256(std::uint64_t seed, std::size_t size) {
    std::vector<std::uint8_t> data(size);
    netloom::apps::DataStream(seed).fill(data);
    return Sha256::hex(Sha256::of(data));
}

// A report path in the temporary directory, removed when the test ends.
struct TempReport {
    explicit TempReport(const std::string& name)
        : path(std::filesystem::temp_directory_path() /
               ("netloom_tcp_bulk_" + std::to_string(::getpid()) + "_" + name + ".json")) {
        std::filesystem::remove(path);
    }
    ~TempReport() { std::filesystem::remove(path); }
    nlohmann::json read() const {
        std::ifstream in(path);
        REQUIRE(in.good());
        return nlohmann::json::parse(in);
    }
    std::filesystem::path path;
};

// Two tcp_bulk apps on one fake engine; the run ends when both finite apps have finished.
struct BulkRun {
    explicit BulkRun(FakeTcpEngine::Options options = {}) : tcp(sched, kOwn, options) {}
    ManualScheduler sched;
    FakeTcpEngine tcp;
    TcpAppTestEnv env{sched, &tcp};
    std::unique_ptr<App> server, client;
    std::optional<int> server_status, client_status;

    void run(const std::string& server_yaml, const std::string& client_yaml) {
        server = make_tcp_bulk(Config::load_string(server_yaml, "server.yaml"), env);
        client = make_tcp_bulk(Config::load_string(client_yaml, "client.yaml"), env);
        server->start([this](int s) {
            REQUIRE_FALSE(server_status);
            server_status = s;
            if (client_status) sched.stop();
        });
        client->start([this](int s) {
            REQUIRE_FALSE(client_status);
            client_status = s;
            if (server_status || !server->finite()) sched.stop();
        });
        sched.run();
    }
    const TcpBulkApp& server_app() const { return static_cast<const TcpBulkApp&>(*server); }
    const TcpBulkApp& client_app() const { return static_cast<const TcpBulkApp&>(*client); }
};

}  // namespace

TEST_CASE("tcp_bulk: sender and receiver agree on byte count and SHA-256") {
    TempReport sender_report("sender"), receiver_report("receiver");
    BulkRun run;
    run.run(
        "role: server\ndirection: receive\nport: 5001\nconnections: 1\nbytes: 300001\n"
        "seed: 11\nreport: " +
            receiver_report.path.string() + "\n",
        "role: client\ndirection: send\ntarget: 10.0.0.2\nport: 5001\nbytes: 300001\n"
        "seed: 11\nreport: " +
            sender_report.path.string() + "\n");
    REQUIRE(run.client_status == 0);
    REQUIRE(run.server_status == 0);
    const auto sent = sender_report.read();
    const auto received = receiver_report.read();
    const std::string expected = expected_sha256(11, 300001);
    CHECK(sent["sha256"] == expected);
    CHECK(received["sha256"] == expected);
    CHECK(sent["bytes"] == 300001);
    CHECK(received["bytes"] == 300001);
    CHECK(sent["role"] == "client");
    CHECK(sent["direction"] == "send");
    CHECK(received["role"] == "server");
    CHECK(received["direction"] == "receive");
    CHECK(sent["error"].is_null());
    CHECK(received["error"].is_null());
    // Virtual time passed (the fake moves 1400 bytes per 50 us each way), so a rate exists.
    CHECK(received["seconds"].get<double>() > 0);
    CHECK(received["gbit_per_s"].get<double>() > 0);
    CHECK(received["cpu_seconds"].get<double>() >= 0);
    for (const char* key : {"retransmits", "rto_count", "fast_retransmits", "sack_recoveries"}) {
        CHECK(sent.contains(key));
    }
    CHECK(run.server_app().results().size() == 1);
}

TEST_CASE("tcp_bulk: the server can send and the client receive") {
    BulkRun run;
    run.run("role: server\ndirection: send\nport: 6000\nconnections: 1\nbytes: 100KiB\nseed: 4\n",
            "role: client\ndirection: receive\ntarget: 10.0.0.2\nport: 6000\nbytes: 100KiB\n"
            "seed: 4\n");
    REQUIRE(run.client_status == 0);
    REQUIRE(run.server_status == 0);
    const auto& got = run.client_app().results().at(0);
    CHECK(got.bytes == 100 * 1024);
    CHECK(got.sha256 == expected_sha256(4, 100 * 1024));
    CHECK(got.sha256 == run.server_app().results().at(0).sha256);
}

TEST_CASE("tcp_bulk: a receiver fails on a short transfer or on content from another seed") {
    SECTION("expected more bytes than were sent") {
        BulkRun run;
        run.run("role: server\ndirection: receive\nconnections: 1\nbytes: 20000\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 10000\n");
        CHECK(run.client_status == 0);
        CHECK(run.server_status == 1);
        CHECK_THAT(run.server_app().results().at(0).failure, Catch::Contains("expected 20000"));
    }
    SECTION("verifying against another seed") {
        BulkRun run;
        run.run("role: server\ndirection: receive\nconnections: 1\nseed: 8\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 10000\nseed: 9\n");
        CHECK(run.server_status == 1);
        CHECK_THAT(run.server_app().results().at(0).failure, Catch::Contains("at byte 0"));
    }
    SECTION("a flipped byte is found at its offset") {
        BulkRun run;
        run.tcp.mangle = [](bool, std::uint64_t offset, std::span<std::uint8_t> bytes) {
            if (offset <= 7777 && 7777 < offset + bytes.size()) bytes[7777 - offset] ^= 1;
        };
        run.run("role: server\ndirection: receive\nconnections: 1\nseed: 8\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 10000\nseed: 8\n");
        CHECK(run.server_status == 1);
        CHECK_THAT(run.server_app().results().at(0).failure, Catch::Contains("at byte 7777"));
        CHECK(run.server_app().results().at(0).sha256 != run.client_app().results().at(0).sha256);
    }
}

TEST_CASE("tcp_bulk: abort_after resets the connection, the receiver fails unless it expects it") {
    TempReport receiver_report("reset_receiver");
    FakeTcpEngine::Options options;
    options.info_retransmits = 3;  // the fake reports it: the report must carry it through
    SECTION("receiver expecting EOF sees a reset: failure") {
        BulkRun run(options);
        run.run("role: server\ndirection: receive\nconnections: 1\nreport: " +
                    receiver_report.path.string() + "\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 100000\n"
                "abort_after: 30000\n");
        CHECK(run.client_status == 0);  // an intentional abort is the sender's success
        CHECK(run.client_app().results().at(0).aborted);
        CHECK(run.client_app().results().at(0).bytes == 30000);
        REQUIRE(run.server_status == 1);
        const auto report = receiver_report.read();
        CHECK(report["ok"] == false);
        CHECK(report["tcp_error"] == "reset");
        CHECK_THAT(report["error"].get<std::string>(), Catch::Contains("reset"));
        CHECK(report["retransmits"] == 3);
        CHECK(report["bytes"].get<std::uint64_t>() <= 30000);
    }
    SECTION("receiver with expect: reset succeeds") {
        BulkRun run(options);
        run.run("role: server\ndirection: receive\nconnections: 1\nexpect: reset\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 100000\n"
                "abort_after: 30000\n");
        CHECK(run.client_status == 0);
        CHECK(run.server_status == 0);
        CHECK(run.server_app().results().at(0).tcp_error == netloom::TcpError::reset);
    }
    SECTION("receiver with expect: reset fails on a clean EOF") {
        BulkRun run(options);
        run.run("role: server\ndirection: receive\nconnections: 1\nexpect: reset\n",
                "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 10000\n");
        CHECK(run.client_status == 0);
        CHECK(run.server_status == 1);
    }
}

TEST_CASE("tcp_bulk: a server with connections: 2 serves two clients, then finishes") {
    BulkRun run;
    auto second = make_tcp_bulk(
        Config::load_string("role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 5000\n"
                            "seed: 2\n",
                            "second.yaml"),
        run.env);
    std::optional<int> second_status;
    second->start([&](int s) { second_status = s; });
    run.run("role: server\ndirection: receive\nconnections: 2\n",
            "role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 7000\nseed: 1\n");
    run.sched.run();  // let the second client see its close complete if it has not yet
    CHECK(run.server_status == 0);
    CHECK(second_status == 0);
    const auto& results = run.server_app().results();
    REQUIRE(results.size() == 2);
    CHECK(results[0].bytes + results[1].bytes == 12000);
}

TEST_CASE("tcp_bulk: a sender whose receiver half-closes early fails") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    auto sender = make_tcp_bulk(
        Config::load_string("role: server\ndirection: send\nconnections: 1\nbytes: 100000\n", "s"),
        env);
    std::optional<int> status;
    sender->start([&](int s) { status = s; });
    sched.run_until_idle();
    auto receiver = tcp.connect({kOwn, 5001}, {});
    std::uint8_t buffer[1000];
    std::size_t got = 0;
    while (got < 5000) {
        sched.advance(50us);
        got += receiver->recv(buffer);
    }
    receiver->shutdown_write();  // "I am done" long before the 100000 bytes
    for (int turn = 0; turn < 10'000 && !status; ++turn) {
        sched.advance(50us);
        while (receiver->recv(buffer) > 0) {
        }
    }
    REQUIRE(status == 1);
    const auto& result = static_cast<TcpBulkApp&>(*sender).results().at(0);
    CHECK_THAT(result.failure, Catch::Contains("the receiver closed after"));
    CHECK(result.bytes < 100000);
}

TEST_CASE("tcp_bulk: a client whose connect is refused fails") {
    BulkRun run;
    std::unique_ptr<App> client = make_tcp_bulk(
        Config::load_string("role: client\ndirection: send\ntarget: 10.0.0.2\nbytes: 1\n", "c"),
        run.env);
    std::optional<int> status;
    client->start([&](int s) { status = s; });
    run.sched.run();
    REQUIRE(status == 1);
    CHECK(static_cast<TcpBulkApp&>(*client).results().at(0).tcp_error ==
          netloom::TcpError::refused);
}

TEST_CASE("tcp_bulk: config errors") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return make_tcp_bulk(Config::load_string(yaml, "test.yaml"), env);
    };
    CHECK_THROWS_AS(build("role: client\ndirection: send\nbytes: 1\n"), ConfigError);  // target
    CHECK_THROWS_AS(build("role: peer\ndirection: send\nbytes: 1\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: sideways\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: send\n"), ConfigError);  // sender: bytes
    CHECK_THROWS_AS(build("role: server\ndirection: receive\nabort_after: 5\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: send\nbytes: 5\nexpect: reset\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: send\nbytes: 5\nabort_after: 6\n"),
                    ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: receive\nexpect: maybe\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ndirection: receive\ntarget: 10.0.0.2\nconnections: 1\n"),
                    ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: receive\ntarget: 10.0.0.2\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ndirection: receive\nreprot: x.json\n"), ConfigError);
    CHECK_NOTHROW(build("role: server\ndirection: receive\n"));
    CHECK_FALSE(build("role: server\ndirection: receive\n")->finite());
    CHECK(build("role: server\ndirection: receive\nconnections: 3\n")->finite());
}
