// http over the tar store: the server on FakeTcpEngine serving a tar image on MemoryBlockDevice
// answers byte for byte as it does serving the same files from a directory (GET, HEAD, ranges,
// index.html, 404, keep-alive); requests wait for the index; a refused archive is 503; a read
// error is a 500 before the response starts and a reset after, and the server goes on; memory
// per connection is bounded by in_flight x read_size; the `store:` keys; the client role.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "http_test_support.hpp"
#include "memory_block_device.hpp"
#include "tar_writer.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::BlockDevice;
using netloom::Config;
using netloom::ConfigError;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;
using netloom::testing::MemoryBlockDevice;
using netloom::testing::TarWriter;
using netloom::testing::http::get;
using netloom::testing::http::HttpRun;
using netloom::testing::http::split_responses;
namespace apps = netloom::apps;
namespace fs = std::filesystem;

namespace {

// An Env for app factories with a TCP engine and named block devices.
class StoreEnv final : public netloom::Env {
public:
    StoreEnv(netloom::Scheduler& scheduler, netloom::TcpEngine& tcp)
        : scheduler_(scheduler), tcp_(tcp) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component));
    }
    netloom::Scheduler& scheduler() override { return scheduler_; }
    netloom::Checksum& checksum() override { throw std::logic_error("no checksum"); }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<netloom::NetDevice> make_device(const Config&) override {
        throw std::logic_error("apps build no device");
    }
    netloom::TcpEngine& tcp() override { return tcp_; }
    BlockDevice& block(std::string_view name) override {
        const auto it = blocks.find(std::string(name));
        if (it == blocks.end()) {
            throw std::invalid_argument("no block device named '" + std::string(name) + "'");
        }
        return *it->second;
    }
    std::map<std::string, BlockDevice*> blocks;

private:
    netloom::Scheduler& scheduler_;
    netloom::TcpEngine& tcp_;
    std::string name_ = "test";
};

// The files HttpRun serves from its directory, as a tar archive.
std::vector<std::uint8_t> http_run_archive(const std::string& data) {
    TarWriter w;
    w.member("./", '5', "");
    w.file("./data.bin", data);
    w.file("./index.html", "<h1>hi</h1>\n");
    w.member("./sub/", '5', "");
    w.file("./sub/index.html", "sub\n");
    w.member("./in.bin", '2', "");
    w.end();
    return w.bytes();
}

struct StoreRun {
    explicit StoreRun(std::vector<std::uint8_t> image, const std::string& store_keys = "")
        : tcp(sched, kOwn), device(sched, std::move(image)), env(sched, tcp) {
        env.blocks["disk0"] = &device;
        server =
            apps::make_http(Config::load_string("port: 80\nidle_timeout: 2s\nstore: {block: disk0" +
                                                    store_keys + "}\n",
                                                "http.yaml"),
                            env);
        server->start([](int) { FAIL("a server never finishes"); });
    }
    std::string exchange(const std::string& request, netloom::Time wait = 1s) {
        return netloom::testing::http::exchange(sched, tcp, scope, request, wait);
    }
    std::uint64_t counter(std::string_view name) const {
        return netloom::testing::counter(*server, name);
    }

    ManualScheduler sched;
    FakeTcpEngine tcp;
    MemoryBlockDevice device;
    StoreEnv env;
    std::unique_ptr<App> server;
    apps::TaskScope scope{sched};
};

// Sends `request` without half-closing and reads until the stream ends, into `received`; `end`
// is how it ended. For exchanges the test steps through itself.
netloom::Task<void> request_and_read(StoreRun& run, std::string request, std::string& received,
                                     std::optional<apps::IoStatus>& end) {
    apps::TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 80});
    co_await s.write_all({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
    std::vector<std::uint8_t> buffer(4096);
    for (;;) {
        const apps::IoResult got = co_await s.read(buffer, run.sched.now() + 5s);
        received.append(reinterpret_cast<const char*>(buffer.data()), got.bytes);
        if (!got.ok()) {
            end = got.status;
            break;
        }
    }
}

std::string data_of(std::size_t n) {
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 7 + i / 300);
    return data;
}

}  // namespace

TEST_CASE("http store: the same responses as the directory, byte for byte") {
    HttpRun dir;
    StoreRun store(http_run_archive(dir.data), ", read_size: 16, in_flight: 3");
    const std::vector<std::string> requests = {
        get("/data.bin"),
        "HEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-70000\r\n\r\n",
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-5\r\n\r\n",
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=299990-\r\n\r\n",
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=300000-\r\n\r\n",
        get("/"),
        get("/sub"),
        get("/sub/?q=1"),
        get("/index.html"),
        get("/missing"),
        get("/%2e%2e/etc/passwd"),
        "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /sub/index.html HTTP/1.0\r\n\r\n",
    };
    std::string all;  // every request, pipelined on one connection
    for (const std::string& r : requests) {
        INFO(r);
        const std::string from_dir = dir.exchange(r);
        CHECK(from_dir.starts_with("HTTP/1.1 "));
        CHECK(store.exchange(r) == from_dir);
        // HTTP/1.0 without keep-alive and the 400 end their connection: the rest go on one.
        if (!r.ends_with("HTTP/1.0\r\n\r\n") && r.find("%2e") == std::string::npos) all += r;
    }
    const std::string pipelined = dir.exchange(all);
    CHECK(store.exchange(all) == pipelined);
    CHECK(split_responses(pipelined, {false, true}).size() == 12);
    CHECK(store.counter("store_files") == 3);
    CHECK(store.counter("store_skipped_links") == 1);
    CHECK(store.counter("responses_2xx") == dir.counter("responses_2xx"));
    CHECK(store.counter("not_found") == dir.counter("not_found"));
    CHECK(store.counter("io_errors") == 0);
}

TEST_CASE("http store: requests that arrive before the index is built wait for it") {
    const std::string data = data_of(5000);
    TarWriter w;
    w.file("a.txt", data);
    w.end();
    StoreRun run(w.bytes());
    run.device.hold = true;  // the build's reads stay in flight
    std::string received;
    std::optional<apps::IoStatus> end;
    run.scope.spawn(request_and_read(run, get("/a.txt"), received, end));
    run.sched.advance(100ms);
    CHECK(run.counter("store_ready") == 0);
    CHECK(run.counter("requests") == 1);
    CHECK(received.empty());
    run.device.release();
    run.sched.advance(100ms);
    CHECK(run.counter("store_ready") == 1);
    const auto rs = split_responses(received, {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == data);
    CHECK_FALSE(end);  // kept alive
}

TEST_CASE("http store: a refused archive answers 503 to everything") {
    TarWriter w;
    w.file("a.txt", "a");
    w.block(
        netloom::testing::tar_header("b.txt", '0', 1, netloom::testing::TarFormat::posix, {}, 3));
    w.end();
    StoreRun run(w.bytes());
    const auto rs = split_responses(run.exchange(get("/a.txt") + get("/")), {});
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].status == 503);
    CHECK(rs[1].status == 503);
    CHECK(run.counter("store_refused") == 1);
    CHECK(run.counter("store_files") == 0);
    CHECK(run.counter("responses_5xx") == 2);
}

TEST_CASE("http store: a read error is a 500 before the response starts, a reset after") {
    const std::string big = data_of(100'000);
    TarWriter w;
    const std::size_t bad_at = w.file("bad_start.bin", "unreadable");
    const std::size_t big_at = w.file("bad_middle.bin", big);
    w.file("good.txt", "good");
    w.end();
    StoreRun run(w.bytes(), ", read_size: 8, in_flight: 2");
    run.sched.advance(10ms);  // the index is built before the sectors go bad
    REQUIRE(run.counter("store_files") == 3);
    run.device.bad_sectors = {bad_at / 512, big_at / 512 + 40};
    // The first read fails: 500, and the connection carries the next request.
    const auto rs = split_responses(run.exchange(get("/bad_start.bin") + get("/good.txt")), {});
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].status == 500);
    CHECK(rs[1].status == 200);
    CHECK(rs[1].body == "good");
    CHECK(run.counter("io_errors") == 1);
    // Mid-file: 200 and 20 KiB went out, then the connection is reset; the server goes on.
    std::string received;
    std::optional<apps::IoStatus> end;
    run.scope.spawn(request_and_read(run, get("/bad_middle.bin"), received, end));
    run.sched.advance(1s);
    CHECK(end == apps::IoStatus::reset);
    CHECK(received.size() < big.size());
    if (!received.empty()) CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(run.counter("io_errors") == 2);
    const auto after = split_responses(run.exchange(get("/good.txt")), {});
    REQUIRE(after.size() == 1);
    CHECK(after[0].body == "good");
}

TEST_CASE("http store: memory per connection is in_flight x read_size sectors") {
    const std::string big = data_of(1'000'000);
    TarWriter w;
    w.file("big.bin", big);
    w.end();
    StoreRun run(w.bytes(), ", read_size: 16, in_flight: 2");
    run.sched.advance(10ms);
    const std::uint64_t before = run.device.allocated_bytes;
    const auto rs = split_responses(run.exchange(get("/big.bin"), 5s), {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].body == big);
    CHECK(run.device.allocated_bytes - before <= 2 * 16 * 512);
    CHECK(run.device.largest_request == 16);
    CHECK(run.device.in_flight_peak <= 2);
}

TEST_CASE("http store config: exactly one source, a known device, bounded shapes") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TarWriter w;
    w.end();
    MemoryBlockDevice device(sched, w.bytes());
    StoreEnv env(sched, tcp);
    env.blocks["disk0"] = &device;
    const auto build = [&](const std::string& yaml) {
        return apps::make_http(Config::load_string(yaml, "http.yaml"), env);
    };
    CHECK_NOTHROW(build("store: {block: disk0}\n"));
    CHECK_NOTHROW(
        build("store: {block: disk0, read_size: 32768, in_flight: 256, max_entries: 5, "
              "max_name_bytes: 4096, max_index_bytes: 4KiB}\n"));
    CHECK_THROWS_AS(build("port: 80\n"), ConfigError);
    CHECK_THROWS_AS(build("root: /tmp\nstore: {block: disk0}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {block: disk1}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {block: disk0, read_size: 32769}\n"), ConfigError);  // > 16 MiB
    CHECK_THROWS_AS(build("store: {block: disk0, in_flight: 0}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {block: disk0, max_index_bytes: 2GiB}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {block: disk0, readsize: 8}\n"), ConfigError);
    CHECK_THROWS_AS(build("store: {block: disk0}\ncount: 3\n"), ConfigError);  // a client key
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\nstore: {block: disk0}\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\ncount: 1\nduration: 1s\n"), ConfigError);
    CHECK_THROWS_AS(build("role: client\ntarget: 10.0.0.2\npath: nope\n"), ConfigError);
    CHECK_NOTHROW(build("role: client\ntarget: 10.0.0.2\npath: /a\ncount: 2\n"));
}

TEST_CASE("http client: response heads parsed, hostile ones refused") {
    auto h = apps::parse_response_head(
        "HTTP/1.1 200 OK\r\nServer: x\r\ncontent-length: 42\r\nConnection: close\r\n\r\n");
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(h->content_length == 42u);
    CHECK(h->close);
    h = apps::parse_response_head("HTTP/1.0 404 Not Found\n\n");
    REQUIRE(h);
    CHECK(h->status == 404);
    CHECK_FALSE(h->content_length);
    CHECK_FALSE(h->close);
    CHECK_FALSE(apps::parse_response_head("HTTP/2 200 OK\r\n\r\n"));
    CHECK_FALSE(apps::parse_response_head("HTTP/1.1 2x0 OK\r\n\r\n"));
    CHECK_FALSE(apps::parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"));
    CHECK_FALSE(apps::parse_response_head(
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"));
    CHECK_FALSE(apps::parse_response_head("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"));
}

TEST_CASE("http client: fetches from the store and reports MB/s and latency") {
    const std::string data = data_of(200'000);
    TarWriter w;
    w.file("data.bin", data);
    w.end();
    StoreRun run(w.bytes());
    const fs::path report =
        fs::temp_directory_path() / ("netloom_http_client_" + std::to_string(::getpid()) + ".json");
    const bool keep_alive = GENERATE(true, false);
    auto client = apps::make_http(
        Config::load_string("role: client\ntarget: 10.0.0.2\npath: /data.bin\ncount: 3\n"
                            "keep_alive: " +
                                std::string(keep_alive ? "true" : "false") +
                                "\nreport: " + report.string() + "\n",
                            "client.yaml"),
        run.env);
    std::optional<int> status;
    client->start([&](int s) { status = s; });
    run.sched.advance(5s);
    REQUIRE(status == 0);
    CHECK(netloom::testing::counter(*client, "fetches") == 3);
    CHECK(netloom::testing::counter(*client, "connections") == (keep_alive ? 1 : 3));
    CHECK(netloom::testing::counter(*client, "body_bytes") == 3 * data.size());
    std::ifstream in(report);
    const auto json = nlohmann::json::parse(in);
    CHECK(json["ok"] == true);
    CHECK(json["metrics"].contains("mb_per_s"));
    CHECK(json["metrics"].contains("latency_p50_us"));
    CHECK(json["fetches"] == 3);
    fs::remove(report);
    // A missing file fails the run with the status in the error.
    auto missing = apps::make_http(
        Config::load_string("role: client\ntarget: 10.0.0.2\npath: /nope\ncount: 1\n", "c.yaml"),
        run.env);
    std::optional<int> failed;
    missing->start([&](int s) { failed = s; });
    run.sched.advance(2s);
    CHECK(failed == 1);
}

TEST_CASE("http client: requests_per_connection closes a kept connection after N fetches") {
    const std::string data = data_of(1'000);
    TarWriter w;
    w.file("small.bin", data);
    w.end();
    StoreRun run(w.bytes());
    auto client = apps::make_http(
        Config::load_string("role: client\ntarget: 10.0.0.2\npath: /small.bin\ncount: 7\n"
                            "requests_per_connection: 3\n",
                            "client.yaml"),
        run.env);
    std::optional<int> status;
    client->start([&](int s) { status = s; });
    run.sched.advance(5s);
    REQUIRE(status == 0);
    CHECK(netloom::testing::counter(*client, "fetches") == 7);
    CHECK(netloom::testing::counter(*client, "connections") == 3);  // 3 + 3 + 1
    CHECK(netloom::testing::counter(*client, "body_bytes") == 7 * data.size());
    // Several requests on a connection need keep-alive.
    CHECK_THROWS_AS(
        apps::make_http(Config::load_string("role: client\ntarget: 10.0.0.2\ncount: 2\n"
                                            "keep_alive: false\nrequests_per_connection: 2\n",
                                            "bad.yaml"),
                        run.env),
        ConfigError);
}
