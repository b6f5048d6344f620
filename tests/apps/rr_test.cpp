// rr (request/response latency) server and client on FakeTcpEngine, the wire format, and the
// latency histogram behind its percentiles.
#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "fake_tcp_engine.hpp"
#include "latency_histogram.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "rr.hpp"
#include "server_client_run.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Task;
using netloom::Time;
using netloom::apps::LatencyHistogram;
using netloom::apps::make_rr;
using netloom::apps::RrHeader;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;
namespace apps = netloom::apps;

namespace {

std::uint64_t counter(const App& app, std::string_view name) {
    std::optional<std::uint64_t> found;
    app.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) found = v;
    });
    if (!found) throw std::out_of_range("no counter " + std::string(name));
    return *found;
}

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("netloom_rr_test_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    return nlohmann::json::parse(in);
}

struct RrRun : netloom::testing::ServerClientRun {
    explicit RrRun(FakeTcpEngine::Options options = {})
        : ServerClientRun(make_rr, kOwn, "role: server\nport: 5002\n", options) {}
};

}  // namespace

TEST_CASE("latency histogram: exact below 64 ns, within 1/64 above, fixed memory") {
    LatencyHistogram empty;
    CHECK(empty.quantile(0.5) == Time{0});
    CHECK(empty.mean() == Time{0});

    LatencyHistogram small;
    for (int i = 1; i <= 50; ++i) small.add(Time{i});
    CHECK(small.quantile(0.5) == Time{25});
    CHECK(small.quantile(1.0) == Time{50});
    CHECK(small.min() == Time{1});

    // 1..100000 us uniformly: p50 ~ 50 ms, p99 ~ 99 ms, each within the bucket resolution.
    LatencyHistogram h;
    for (int i = 1; i <= 100'000; ++i) h.add(std::chrono::microseconds(i));
    const auto near = [](Time got, double want_ns) {
        return std::abs(static_cast<double>(got.count()) - want_ns) <= want_ns / 64.0;
    };
    CHECK(near(h.quantile(0.5), 50'000'000.0));
    CHECK(near(h.quantile(0.99), 99'000'000.0));
    CHECK(h.quantile(1.0) == 100ms);  // clamped to the exact max
    CHECK(h.count() == 100'000);
    CHECK(near(h.mean(), 50'000'500.0));
    static_assert(sizeof(LatencyHistogram) < 32 * 1024);

    // Every bucket's range starts where the previous one ended, and values map into their own.
    for (std::size_t i = 1; i < LatencyHistogram::kBuckets; ++i) {
        CHECK(LatencyHistogram::bucket_low(i) ==
              LatencyHistogram::bucket_low(i - 1) + LatencyHistogram::bucket_width(i - 1));
    }
    std::mt19937_64 random(7);
    for (int i = 0; i < 10'000; ++i) {
        const std::uint64_t v = random() >> (1 + random() % 62);  // a Time is signed: < 2^63
        const std::size_t b = LatencyHistogram::bucket_of(v);
        CHECK(v >= LatencyHistogram::bucket_low(b));
        CHECK(v - LatencyHistogram::bucket_low(b) < LatencyHistogram::bucket_width(b));
    }
    LatencyHistogram huge;
    huge.add(Time::max());
    huge.add(Time{-5});
    CHECK(huge.quantile(0.0) == Time{0});
    CHECK(huge.quantile(1.0) == Time::max());
}

TEST_CASE("rr wire: the header round-trips and one flipped byte breaks the pattern") {
    std::array<std::uint8_t, apps::kRrHeaderSize> raw{};
    apps::encode_rr_header({1000, 0x01020304, 77}, raw);
    CHECK(raw[4] == 0x01);
    const RrHeader back = apps::decode_rr_header(raw);
    CHECK(back.request_length == 1000);
    CHECK(back.response_length == 0x01020304);
    CHECK(back.transaction == 77);
    std::vector<std::uint8_t> bytes(3000);
    apps::fill_rr_pattern(bytes, true, 5, 100);
    CHECK(apps::check_rr_pattern(bytes, true, 5, 100));
    CHECK_FALSE(apps::check_rr_pattern(bytes, true, 6, 100));   // another transaction
    CHECK_FALSE(apps::check_rr_pattern(bytes, false, 5, 100));  // a request, not a response
    bytes[1234] ^= 0x10;
    CHECK_FALSE(apps::check_rr_pattern(bytes, true, 5, 100));
}

TEST_CASE("rr: 50 transactions on one connection, multi-segment response, JSON report") {
    RrRun run;
    run.start_server();
    const std::string report = temp_path("rr.json");
    run.run_client(
        "role: client\ntarget: 10.0.0.2\nsize: 100\nresponse_size: 5000\n"
        "transactions: 50\nreport: " +
        report + "\n");
    REQUIRE(run.status == 0);
    CHECK(counter(*run.client, "transactions") == 50);
    CHECK(counter(*run.client, "connections") == 1);
    CHECK(counter(*run.client, "bytes_received") == 50 * 5000);
    CHECK(counter(*run.server, "transactions") == 50);
    CHECK(counter(*run.server, "bytes_received") == 50 * 100);
    const auto j = read_json(report);
    std::filesystem::remove(report);
    CHECK(j["metrics"]["rr_per_s"].get<double>() > 0);
    const double p50 = j["metrics"]["latency_p50_us"].get<double>();
    const double p99 = j["metrics"]["latency_p99_us"].get<double>();
    // 5000 B through 1400 B steps of 50 us each way: a few hundred microseconds, virtual time.
    CHECK(p50 >= 100);
    CHECK(p50 <= 1000);
    CHECK(p99 >= p50);
    CHECK_FALSE(j["metrics"].contains("connections_per_s"));
    CHECK(j["transactions"] == 50);
    CHECK(j["ok"] == true);
    CHECK(j["error"].is_null());
    CHECK(j["tcp"].contains("retransmits"));
    // rr_per_s is transactions over the measured time
    CHECK(j["metrics"]["rr_per_s"].get<double>() ==
          Approx(50.0 / j["seconds"].get<double>()).epsilon(1e-9));
    run.sched.advance(1s);
    CHECK(counter(*run.server, "connections_current") == 0);
}

TEST_CASE("rr crr: a new connection per transaction, connections_per_s in the report") {
    RrRun run;
    run.start_server();
    const std::string report = temp_path("crr.json");
    run.run_client(
        "role: client\ntarget: 10.0.0.2\nmode: crr\nsize: 64\nresponse_size: 64\n"
        "transactions: 20\nreport: " +
        report + "\n");
    REQUIRE(run.status == 0);
    CHECK(counter(*run.client, "connections") == 20);
    CHECK(counter(*run.server, "connections") == 20);
    CHECK(counter(*run.server, "transactions") == 20);
    const auto j = read_json(report);
    std::filesystem::remove(report);
    CHECK(j["metrics"]["connections_per_s"].get<double>() > 0);
    CHECK(j["mode"] == "crr");
    run.sched.advance(1s);
    CHECK(counter(*run.server, "connections_current") == 0);
    CHECK(run.tcp.live_links() == 0);
}

TEST_CASE("rr: duration with warmup measures only what starts after the warmup") {
    RrRun run;
    run.start_server();
    run.run_client("role: client\ntarget: 10.0.0.2\nduration: 20ms\nwarmup: 5ms\n");
    REQUIRE(run.status == 0);
    const auto measured = counter(*run.client, "transactions");
    const auto warm = counter(*run.client, "warmup_transactions");
    CHECK(warm > 0);
    CHECK(measured > 3 * warm);  // 20 ms against 5 ms
    CHECK(run.sched.now() >= 25ms);
    CHECK(run.sched.now() < 26ms);
    CHECK(counter(*run.server, "transactions") == measured + warm);
}

TEST_CASE("rr: a flipped response byte fails the client with corrupt counted") {
    RrRun run;
    run.tcp.mangle = [](bool from_client, std::uint64_t offset, std::span<std::uint8_t> chunk) {
        const std::uint64_t target = 64 * 7 + 10;  // in the 8th response
        if (!from_client && offset <= target && target < offset + chunk.size()) {
            chunk[target - offset] ^= 1;
        }
    };
    run.start_server();
    const std::string report = temp_path("corrupt.json");
    run.run_client("role: client\ntarget: 10.0.0.2\ntransactions: 20\nreport: " + report + "\n");
    CHECK(run.status == 1);
    CHECK(counter(*run.client, "corrupt") == 1);
    CHECK(counter(*run.client, "transactions") == 7);
    const auto j = read_json(report);
    std::filesystem::remove(report);
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("transaction 7") != std::string::npos);
}

TEST_CASE("rr server: a corrupt request and a bad header reset the connection, it keeps serving") {
    RrRun run;
    run.tcp.mangle = [](bool from_client, std::uint64_t offset, std::span<std::uint8_t> chunk) {
        if (from_client && offset == 0 && chunk.size() > 40) chunk[40] ^= 0xff;
    };
    run.start_server();
    run.run_client("role: client\ntarget: 10.0.0.2\ntransactions: 3\n");
    CHECK(run.status == 1);
    CHECK(counter(*run.server, "corrupt") == 1);
    CHECK(counter(*run.client, "errors") == 1);  // the reset
    run.tcp.mangle = nullptr;

    // A header announcing a 5-byte request (shorter than the header itself).
    apps::TaskScope scope(run.sched);
    std::optional<apps::IoStatus> seen;
    auto bad_client = [&]() -> Task<void> {
        apps::TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 5002});
        std::array<std::uint8_t, apps::kRrHeaderSize> raw{};
        apps::encode_rr_header({5, 10, 0}, raw);
        co_await s.write_all(raw);
        std::uint8_t byte = 0;
        seen = (co_await s.read({&byte, 1})).status;
    };
    scope.spawn(bad_client());
    run.sched.advance(10ms);
    CHECK(seen == apps::IoStatus::reset);
    CHECK(counter(*run.server, "bad_requests") == 1);

    run.status.reset();
    run.run_client(
        "role: client\ntarget: 10.0.0.2\ntransactions: 3\nsize: 100000\n"
        "response_size: 1\n");
    CHECK(run.status == 0);
    CHECK(counter(*run.server, "transactions") == 3);  // the corrupt one was the first
}

TEST_CASE("rr server: max_connections refuses the connection over the limit") {
    RrRun run;
    run.start_server("role: server\nport: 5002\nmax_connections: 1\n");
    apps::TaskScope scope(run.sched);
    std::optional<apps::IoStatus> second;
    std::optional<apps::TcpStream> first;
    auto clients = [&]() -> Task<void> {
        first.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 5002}));
        apps::TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 5002});
        std::uint8_t byte = 0;
        second = (co_await s.read({&byte, 1})).status;
    };
    scope.spawn(clients());
    run.sched.advance(10ms);
    CHECK(second == apps::IoStatus::reset);
    CHECK(counter(*run.server, "connections_refused") == 1);
    CHECK(counter(*run.server, "connections_current") == 1);
}

TEST_CASE("rr client: no server fails with the connect error in the report") {
    RrRun run;
    const std::string report = temp_path("refused.json");
    run.run_client("role: client\ntarget: 10.0.0.2\nreport: " + report + "\n");
    CHECK(run.status == 1);
    const auto j = read_json(report);
    std::filesystem::remove(report);
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("refused") != std::string::npos);
    CHECK(j["metrics"]["rr_per_s"] == 0.0);
}

TEST_CASE("rr config: bad values fail at the key") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return make_rr(Config::load_string(yaml, "bad.yaml"), env);
    };
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nduration: 1s\ntransactions: 5\n"),
                    ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nsize: 11\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nresponse_size: 0\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nmode: udp\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nduration: 0s\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ntarget: 10.0.0.2\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nmax_connections: 3\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\n"), ConfigError);
    CHECK_NOTHROW(build("role: client\ntarget: 10.0.0.2\nmode: crr\nsize: 12\nresponse_size: 1\n"));
}

TEST_CASE("rr client: a duration run whose clock stands still fails instead of spinning") {
    FakeTcpEngine::Options instant;
    instant.latency = Time{0};  // a virtual clock over a link without delay: no time passes
    RrRun run(instant);
    run.start_server();
    const std::string report = temp_path("stuck.json");
    run.run_client("role: client\ntarget: 10.0.0.2\nduration: 1s\nreport: " + report + "\n");
    CHECK(run.status == 1);
    CHECK(run.sched.now() == Time{0});
    CHECK(counter(*run.client, "transactions_started") == apps::RrOptions::kStuckTransactions);
    const auto j = read_json(report);
    std::filesystem::remove(report);
    CHECK(j["error"].get<std::string>().find("clock stands still") != std::string::npos);
    // A count of transactions needs no clock: the same link is fine for it.
    run.status.reset();
    run.run_client("role: client\ntarget: 10.0.0.2\ntransactions: 20\n");
    CHECK(run.status == 0);
}

TEST_CASE("rr server: idle_timeout resets a silent connection and counts it") {
    RrRun run;
    run.start_server("role: server\nport: 5002\nidle_timeout: 3s\n");
    apps::TaskScope scope(run.sched);
    std::optional<apps::IoStatus> seen;
    Time at{};
    auto silent = [&]() -> Task<void> {
        apps::TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 5002});
        std::uint8_t byte = 0;
        seen = (co_await s.read({&byte, 1})).status;
        at = run.sched.now();
    };
    scope.spawn(silent());
    run.sched.advance(10s);
    CHECK(seen == apps::IoStatus::reset);
    CHECK(at >= 3s);
    CHECK(at < 3100ms);
    CHECK(counter(*run.server, "timeouts") == 1);
    CHECK(counter(*run.server, "connections_current") == 0);
}

TEST_CASE("rr server: idle_timeout defaults to 60s and is a server key") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto options =
        apps::RrOptions::from_config(Config::load_string("role: server\n", "server.yaml"));
    CHECK(options.idle_timeout == 60s);
    CHECK_THROWS_AS(
        make_rr(Config::load_string("role: client\ntarget: 10.0.0.2\nidle_timeout: 1s\n", "c.yaml"),
                env),
        ConfigError);
    CHECK_THROWS_AS(
        make_rr(Config::load_string("role: server\nidle_timeout: -1s\n", "s.yaml"), env),
        ConfigError);
}
