// The iperf3 app on FakeTcpEngine: netloom's client against netloom's server (normal, -R,
// -P 3, byte limits), ACCESS_DENIED for strangers during a test, and bad peers written by hand
// with the protocol helpers (garbage, a too-large JSON length, refused parameters, a client
// that goes silent mid-test). Virtual time: the 1 s tests cost no wall time.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_tcp_engine.hpp"
#include "iperf3.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Task;
using netloom::apps::IoResult;
using netloom::apps::IoStatus;
using netloom::apps::make_iperf3;
using netloom::apps::TaskScope;
using netloom::apps::tcp_connect;
using netloom::apps::TcpStream;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;
namespace iperf3 = netloom::apps::iperf3;

namespace {

std::uint64_t counter(const App& app, std::string_view name) {
    std::optional<std::uint64_t> found;
    app.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) found = v;
    });
    if (!found) throw std::out_of_range("no counter " + std::string(name));
    return *found;
}

FakeTcpEngine::Options fake_options() {
    FakeTcpEngine::Options o;
    o.sndbuf = 16000;
    o.rcvbuf = 16000;
    o.latency = 1ms;  // about 16 MB/s of virtual time: a 1 s test is a few thousand steps
    return o;
}

struct Run {
    explicit Run(FakeTcpEngine::Options options = fake_options()) : tcp(sched, kOwn, options) {}
    ManualScheduler sched;
    FakeTcpEngine tcp;
    TcpAppTestEnv env{sched, &tcp};
    std::unique_ptr<App> server;
    std::vector<std::unique_ptr<App>> clients;
    std::optional<int> status;
    std::string report = (std::filesystem::temp_directory_path() /
                          ("iperf3_test_" + std::to_string(::getpid()) + ".json"))
                             .string();
    TaskScope scope{sched};  // hand-written peers; last: ends them first

    ~Run() { std::filesystem::remove(report); }

    void start_server(const std::string& extra = "") {
        server =
            make_iperf3(Config::load_string("role: server\nport: 5201\n" + extra, "s.yaml"), env);
        REQUIRE_FALSE(server->finite());
        server->start([](int) { FAIL("a server never finishes"); });
        sched.run_until_idle();
    }
    /// Runs a client to its end; returns its report.
    nlohmann::json run_client(const std::string& keys) {
        status.reset();
        auto client = make_iperf3(Config::load_string("role: client\ntarget: 10.0.0.2\n"
                                                      "length: 8KiB\nreport: " +
                                                          report + "\n" + keys,
                                                      "c.yaml"),
                                  env);
        REQUIRE(client->finite());
        client->start([this](int s) {
            REQUIRE_FALSE(status);
            status = s;
        });
        for (int i = 0; i < 200 && !status; ++i) sched.advance(100ms);
        REQUIRE(status);
        sched.advance(100ms);  // the server reads IPERF_DONE
        clients.push_back(std::move(client));
        std::ifstream in(report);
        return nlohmann::json::parse(in);
    }
};

// Reads the server's next state byte.
Task<void> expect_state(TcpStream& s, std::int8_t want, ManualScheduler& sched, bool& ok) {
    iperf3::StateRead r = co_await iperf3::read_state(s, sched.now() + 5s);
    ok = r.status == IoStatus::ok && r.state == want;
}

}  // namespace

TEST_CASE("iperf3: client sends to server for 1 s and both count the same bytes") {
    Run run;
    run.start_server();
    const auto r = run.run_client("time: 1s\n");
    REQUIRE(*run.status == 0);
    CHECK(r["ok"] == true);
    CHECK(r["server_results"] == true);
    CHECK(r["seconds"].get<double>() == Approx(1.0));
    const std::uint64_t received = r["bytes_received"];
    CHECK(received > 1'000'000);
    // The client waits for its data to be delivered before TEST_END: nothing is lost.
    CHECK(r["bytes_sent"] == received);
    CHECK(counter(*run.server, "bytes") == received);
    CHECK(counter(*run.server, "tests") == 1);
    CHECK(counter(*run.server, "tests_failed") == 0);
    CHECK(r["metrics"]["throughput_gbit_s"].get<double>() > 0);
    CHECK(counter(*run.server, "streams_current") == 0);
}

TEST_CASE("iperf3: three parallel streams carry ids 1 3 4 and per-stream bytes") {
    Run run;
    run.start_server();
    const auto r = run.run_client("time: 1s\nparallel: 3\n");
    REQUIRE(*run.status == 0);
    REQUIRE(r["streams"].size() == 3);
    std::uint64_t sum = 0;
    std::vector<int> ids;
    for (const auto& s : r["streams"]) {
        ids.push_back(s["id"]);
        CHECK(s["peer_bytes"].get<std::uint64_t>() > 0);
        CHECK(s["peer_bytes"] == s["bytes"]);
        sum += s["peer_bytes"].get<std::uint64_t>();
    }
    CHECK(ids == std::vector<int>{1, 3, 4});
    CHECK(counter(*run.server, "bytes") == sum);
}

TEST_CASE("iperf3: reverse, the server sends, for 1 s") {
    Run run;
    run.start_server();
    const auto r = run.run_client("time: 1s\nreverse: true\nparallel: 2\n");
    REQUIRE(*run.status == 0);
    const std::uint64_t sent = r["bytes_sent"];
    const std::uint64_t received = r["bytes_received"];
    CHECK(received > 500'000);
    CHECK(sent >= received);  // what was in flight at TEST_END is sent, not received
    CHECK(counter(*run.server, "bytes") == sent);
}

TEST_CASE("iperf3: byte limits are exact in both directions") {
    Run run;
    run.start_server();
    auto r = run.run_client("bytes: 300000\nparallel: 3\n");
    REQUIRE(*run.status == 0);
    CHECK(r["bytes_sent"] == 300000);
    CHECK(r["bytes_received"] == 300000);
    CHECK(counter(*run.server, "bytes") == 300000);
    r = run.run_client("bytes: 123457\nreverse: true\nparallel: 2\n");
    REQUIRE(*run.status == 0);
    CHECK(r["bytes_sent"] == 123457);
    CHECK(r["bytes_received"] == 123457);
    CHECK(counter(*run.server, "bytes") == 300000 + 123457);
    CHECK(counter(*run.server, "tests") == 2);
}

TEST_CASE("iperf3: during a test a wrong cookie and a second client get ACCESS_DENIED") {
    Run run;
    run.start_server();
    int denied = 0, closed = 0;
    auto stranger = [&](std::uint8_t fill) -> Task<void> {
        // Waits (bounded) until the test runs, then knocks with its own cookie.
        for (int i = 0; i < 1000 && counter(*run.server, "streams_current") == 0; ++i)
            co_await run.sched.sleep_for(1ms);
        TcpStream s = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        iperf3::Cookie cookie{};
        cookie.fill(fill);
        cookie.back() = 0;
        co_await s.write_all(cookie);
        std::uint8_t byte = 0;
        IoResult r = co_await s.read({&byte, 1}, run.sched.now() + 5s);
        if (r.ok() && byte == 0xFF) ++denied;
        IoResult end = co_await s.read({&byte, 1}, run.sched.now() + 5s);
        if (end.status == IoStatus::eof) ++closed;  // then the server closes
    };
    auto wrong_cookie = stranger('!');  // not even a plausible cookie
    auto second_client = stranger('a');
    run.scope.spawn(std::move(wrong_cookie));
    run.scope.spawn(std::move(second_client));
    const auto r = run.run_client("time: 1s\n");
    CHECK(*run.status == 0);
    CHECK(r["ok"] == true);
    CHECK(denied == 2);
    CHECK(closed == 2);
    CHECK(counter(*run.server, "denied") == 2);
    CHECK(counter(*run.server, "tests") == 1);
}

TEST_CASE("iperf3: garbage and a too-large JSON length are dropped, then a test runs") {
    Run run;
    run.start_server();
    bool param_exchange = false;
    std::optional<IoStatus> garbage_end, json_end;
    auto garbage = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        const std::string text = "GET / HTTP/1.0\r\nHost: example\r\n\r\n and then some";
        co_await s.write_all({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
        std::uint8_t byte;
        garbage_end = (co_await s.read({&byte, 1}, run.sched.now() + 5s)).status;
    };
    auto huge = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        std::mt19937_64 random(1);
        co_await s.write_all(iperf3::make_cookie(random));
        co_await expect_state(s, iperf3::param_exchange, run.sched, param_exchange);
        const std::array<std::uint8_t, 5> length{0x00, 0x10, 0x00, 0x01, 0x7b};  // 1 MiB + 1, "{"
        co_await s.write_all(length);
        std::uint8_t byte;
        json_end = (co_await s.read({&byte, 1}, run.sched.now() + 5s)).status;
    };
    auto g = garbage();
    run.scope.spawn(std::move(g));
    run.sched.advance(100ms);
    auto h = huge();
    run.scope.spawn(std::move(h));
    run.sched.advance(100ms);
    CHECK(garbage_end == IoStatus::reset);  // closed at once (abort: a reset)
    CHECK(param_exchange);
    CHECK(json_end == IoStatus::reset);
    CHECK(counter(*run.server, "bad_control") == 2);
    CHECK(counter(*run.server, "tests_failed") == 1);
    const auto r = run.run_client("time: 1s\n");
    CHECK(*run.status == 0);
    CHECK(counter(*run.server, "tests") == 1);
}

TEST_CASE("iperf3: refused parameters get SERVER_ERROR with iperf3's error number") {
    Run run;
    run.start_server();
    std::optional<std::int8_t> state;
    std::array<std::uint8_t, 8> codes{};
    auto udp_client = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        std::mt19937_64 random(2);
        co_await s.write_all(iperf3::make_cookie(random));
        bool ok = false;
        co_await expect_state(s, iperf3::param_exchange, run.sched, ok);
        REQUIRE(ok);
        nlohmann::json udp;  // built by hand: GCC cannot keep an initializer list in a frame
        udp["udp"] = true;
        udp["time"] = 1;
        udp["parallel"] = 1;
        co_await iperf3::write_json(s, udp, run.sched.now() + 1s);
        auto r = co_await iperf3::read_state(s, run.sched.now() + 5s);
        state = r.state;
        co_await s.read_exact(codes, run.sched.now() + 5s);
    };
    auto c = udp_client();
    run.scope.spawn(std::move(c));
    run.sched.advance(200ms);
    CHECK(state == iperf3::server_error);
    CHECK(codes == std::array<std::uint8_t, 8>{0, 0, 0, iperf3::ie_unimplemented, 0, 0, 0, 0});
    CHECK(counter(*run.server, "tests_failed") == 1);
}

TEST_CASE("iperf3: a client that goes silent mid-test is timed out and the next test runs") {
    Run run;
    run.start_server("idle_timeout: 2s\n");
    bool running = false;
    auto silent = [&]() -> Task<void> {
        TcpStream control = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        std::mt19937_64 random(3);
        const auto cookie = iperf3::make_cookie(random);
        co_await control.write_all(cookie);
        bool ok = false;
        co_await expect_state(control, iperf3::param_exchange, run.sched, ok);
        iperf3::TestParams p;
        p.time_s = 60;
        co_await iperf3::write_json(control, iperf3::params_to_json(p), run.sched.now() + 1s);
        co_await expect_state(control, iperf3::create_streams, run.sched, ok);
        TcpStream data = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        co_await data.write_all(cookie);
        co_await expect_state(control, iperf3::test_start, run.sched, ok);
        co_await expect_state(control, iperf3::test_running, run.sched, running);
        const std::vector<std::uint8_t> some(5000, 7);
        co_await data.write_all(some);
        // Then nothing: no data, no TEST_END, connections left open.
        std::uint8_t byte;
        co_await control.read({&byte, 1});
    };
    auto s = silent();
    run.scope.spawn(std::move(s));
    run.sched.advance(1s);
    REQUIRE(running);
    CHECK(counter(*run.server, "tests_failed") == 0);
    run.sched.advance(5s);  // idle_timeout twice: once with data moving, once without
    CHECK(counter(*run.server, "tests_failed") == 1);
    CHECK(counter(*run.server, "bytes") == 5000);
    const auto r = run.run_client("bytes: 50000\n");
    CHECK(*run.status == 0);
    CHECK(counter(*run.server, "tests") == 1);
}

TEST_CASE("iperf3: a client against no server fails, not hangs") {
    Run run;
    const auto r = run.run_client("time: 1s\n");
    CHECK(*run.status == 1);
    CHECK(r["ok"] == false);
    CHECK(r["error"].get<std::string>().find("refused") != std::string::npos);
}

TEST_CASE("iperf3 protocol: results with 3.12's unsigned -1 and bad results") {
    const auto good = nlohmann::json::parse(
        R"({"cpu_util_total":1.5,"cpu_util_user":1,"cpu_util_system":0.5,
            "sender_has_retransmits":18446744073709551615,
            "streams":[{"id":1,"bytes":1000,"retransmits":18446744073709551615,"jitter":0,
                        "errors":0,"packets":0,"start_time":0,"end_time":1.0}]})");
    const auto parsed = iperf3::parse_results(good);
    REQUIRE(parsed.streams);
    REQUIRE(parsed.streams->size() == 1);
    CHECK((*parsed.streams)[0].retransmits == -1);
    CHECK((*parsed.streams)[0].bytes == 1000);
    auto bad = good;
    bad["streams"][0].erase("bytes");
    CHECK_FALSE(iperf3::parse_results(bad).streams);
    bad = good;
    bad.erase("cpu_util_user");
    CHECK_FALSE(iperf3::parse_results(bad).streams);
    CHECK(iperf3::parse_params({{"parallel", 200}, {"time", 1}}).code == iperf3::ie_num_streams);
    CHECK(iperf3::parse_params({{"len", 0}, {"time", 1}}).code == iperf3::ie_block_size);
    CHECK_FALSE(iperf3::parse_params({{"time", 0}}).params);
    const auto p = iperf3::parse_params(
        {{"tcp", true}, {"time", 3}, {"parallel", 2}, {"len", 1000}, {"reverse", true}});
    REQUIRE(p.params);
    CHECK(p.params->reverse);
    CHECK(p.params->parallel == 2);
    std::mt19937_64 random(4);
    CHECK(iperf3::plausible_cookie(iperf3::make_cookie(random)));
}

TEST_CASE("iperf3: config errors") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return make_iperf3(Config::load_string(yaml, "test.yaml"), env);
    };
    CHECK_NOTHROW(build("role: server\n"));
    CHECK_NOTHROW(build("role: client\ntarget: 10.0.0.2\nbytes: 1MiB\nreverse: true\n"));
    CHECK_THROWS_AS(build("role: client\n"), ConfigError);  // no target
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\ntime: 2s\nbytes: 10\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\ntime: 1500ms\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nlength: 2MiB\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nparallel: 129\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\ntarget: 10.0.0.2\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nidle_timeout: 1s\n"), ConfigError);
    CHECK_THROWS_AS(build("role: server\nidle_timeout: 0s\n"), ConfigError);
}

TEST_CASE("iperf3: the last bytes of a byte limit arrive before TEST_END") {
    // A data stream's first 37 bytes are the cookie. Segments of 16 bytes: waiting until only
    // `bytes` were acknowledged (not cookie + bytes) sent TEST_END with 37 bytes in flight.
    FakeTcpEngine::Options slow = fake_options();
    slow.chunk = 16;
    Run run(slow);
    run.start_server();
    const auto r = run.run_client("bytes: 3001\nlength: 1000\n");
    REQUIRE(*run.status == 0);
    CHECK(r["bytes_received"] == 3001);
    CHECK(counter(*run.server, "bytes") == 3001);
}

TEST_CASE("iperf3: data during omitted seconds keeps a test alive, silence still ends it") {
    // iperf3 -c ... -O 3: nothing is counted for 3 s, yet bytes move; idle_timeout is 1 s.
    Run run;
    run.start_server("idle_timeout: 1s\n");
    bool running = false;
    auto omitting = [&]() -> Task<void> {
        TcpStream control = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        std::mt19937_64 random(5);
        const auto cookie = iperf3::make_cookie(random);
        co_await control.write_all(cookie);
        bool ok = false;
        co_await expect_state(control, iperf3::param_exchange, run.sched, ok);
        iperf3::TestParams p;
        p.time_s = 60;
        p.omit_s = 3;
        co_await iperf3::write_json(control, iperf3::params_to_json(p), run.sched.now() + 1s);
        co_await expect_state(control, iperf3::create_streams, run.sched, ok);
        TcpStream data = co_await tcp_connect(run.sched, run.tcp, {kOwn, 5201});
        co_await data.write_all(cookie);
        co_await expect_state(control, iperf3::test_start, run.sched, ok);
        co_await expect_state(control, iperf3::test_running, run.sched, running);
        const std::vector<std::uint8_t> some(1000, 7);
        for (int i = 0; i < 25; ++i) {  // 2.5 s of data, all inside the omitted 3 s
            co_await data.write_all(some);
            co_await run.sched.sleep_for(100ms);
        }
        std::uint8_t byte;
        co_await control.read({&byte, 1});  // then silence
    };
    run.scope.spawn(omitting());
    run.sched.advance(500ms);
    REQUIRE(running);
    run.sched.advance(2s);  // two idle checks with only omitted bytes moving
    CHECK(counter(*run.server, "tests_failed") == 0);
    run.sched.advance(3s);
    CHECK(counter(*run.server, "tests_failed") == 1);
    CHECK(counter(*run.server, "bytes") == 0);  // all of it was omitted
}

TEST_CASE("iperf3: a client whose data stops moving gives up after one timeout") {
    // A hand-written server that starts the test and then never reads the data stream: the
    // buffers fill in milliseconds, and the client's stall check (timeout 1 s) must fire at
    // the first check that sees no progress over a whole timeout, about 2 s after TEST_RUNNING.
    Run run;
    netloom::Time running_at{-1};
    auto stuck_server = [&]() -> Task<void> {
        netloom::apps::TcpAcceptor acceptor(run.sched, run.tcp, 5201);
        TcpStream control = co_await acceptor.accept();
        iperf3::Cookie cookie{};
        co_await control.read_exact(cookie);
        co_await iperf3::send_state(control, iperf3::param_exchange, run.sched.now() + 1s);
        co_await iperf3::read_json(control, run.sched.now() + 1s);
        co_await iperf3::send_state(control, iperf3::create_streams, run.sched.now() + 1s);
        TcpStream data = co_await acceptor.accept();
        co_await data.read_exact(cookie);
        co_await iperf3::send_state(control, iperf3::test_start, run.sched.now() + 1s);
        co_await iperf3::send_state(control, iperf3::test_running, run.sched.now() + 1s);
        running_at = run.sched.now();
        std::uint8_t byte;
        co_await control.read({&byte, 1});  // holds both connections open, reads no data
    };
    run.scope.spawn(stuck_server());
    run.sched.run_until_idle();
    auto client = make_iperf3(Config::load_string("role: client\ntarget: 10.0.0.2\ntime: 60s\n"
                                                  "timeout: 1s\nlength: 8KiB\n",
                                                  "c.yaml"),
                              run.env);
    std::optional<netloom::Time> finished_at;
    client->start([&](int status) {
        CHECK(status == 1);
        finished_at = run.sched.now();
    });
    for (int i = 0; i < 100 && !finished_at; ++i) run.sched.advance(50ms);
    REQUIRE(finished_at);
    REQUIRE(running_at >= netloom::Time::zero());
    const double after = std::chrono::duration<double>(*finished_at - running_at).count();
    CHECK(after > 1.5);
    CHECK(after < 2.5);  // one timeout late it was about 3 s
}
