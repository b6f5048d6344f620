// http: the request parser, path normaliser and Range parser against hostile input (pure
// functions), and the server on FakeTcpEngine serving a temporary directory.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fake_ip_layer.hpp"
#include "fake_tcp_engine.hpp"
#include "file_source.hpp"
#include "http_request.hpp"
#include "http_server.hpp"
#include "http_test_support.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "stream.hpp"
#include "task_scope.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Task;
using netloom::testing::FakeTcpEngine;
using netloom::testing::ManualScheduler;
using netloom::testing::TcpAppTestEnv;
namespace apps = netloom::apps;
namespace fs = std::filesystem;
using apps::ByteRange;
using apps::IoResult;
using apps::IoStatus;
using apps::TcpStream;
using netloom::testing::kOwn;
using netloom::testing::http::get;
using netloom::testing::http::HttpRun;
using netloom::testing::http::split_responses;

namespace {

int status_of(std::string_view head) {
    return apps::parse_http_request(head).status;
}

}  // namespace

TEST_CASE("http parser: a valid GET, versions and Connection") {
    const auto p = apps::parse_http_request(
        "GET /a/b.html?x=1 HTTP/1.1\r\nHost: example\r\nRange: bytes=0-9\r\n\r\n");
    REQUIRE(p.status == 0);
    CHECK(p.request.method == "GET");
    CHECK(p.request.path == "/a/b.html");
    CHECK(p.request.keep_alive);
    CHECK(p.request.range == "bytes=0-9");
    CHECK_FALSE(apps::parse_http_request("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
    CHECK(status_of("GET / HTTP/1.0\r\n\r\n") == 0);  // no Host needed in 1.0
    const auto c = apps::parse_http_request(
        "HEAD / HTTP/1.1\nhost: a\nConnection: keep-alive, Close\n\n");  // bare LF accepted
    REQUIRE(c.status == 0);
    CHECK_FALSE(c.request.keep_alive);
    CHECK(status_of("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0);  // one leading empty line
}

TEST_CASE("http parser: hostile request lines and fields get 400 405 413 414 431") {
    CHECK(status_of("GET /\r\n\r\n") == 400);
    CHECK(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 400);
    CHECK(status_of("GET / http/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);  // no Host
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == 400);
    CHECK(status_of(std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 30)) == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n") == 400);
    CHECK(
        status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") ==
        400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") == 0);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n") == 413);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\n\r\n") == 405);
    CHECK(status_of("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n") == 405);
    CHECK(status_of("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n") == 414);
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    CHECK(status_of(many + "\r\n") == 431);
    CHECK(status_of("") == 400);
    CHECK(status_of("\r\n\r\n") == 400);
}

TEST_CASE("http parser: paths are decoded and traversal is refused, encoded or not") {
    using apps::normalize_target_path;
    CHECK(normalize_target_path("/") == "/");
    CHECK(normalize_target_path("/a/./b//c?q=/../x#f") == "/a/b/c");
    CHECK(normalize_target_path("/%41%62c") == "/Abc");
    CHECK(normalize_target_path("/a%20b") == "/a b");
    CHECK_FALSE(normalize_target_path("/../etc/passwd"));
    CHECK_FALSE(normalize_target_path("/a/../../etc"));
    CHECK_FALSE(normalize_target_path("/%2e%2e/etc/passwd"));
    CHECK_FALSE(normalize_target_path("/%2E%2E%2fetc"));
    CHECK_FALSE(normalize_target_path("/..%2fetc"));
    CHECK_FALSE(normalize_target_path("/a/.."));
    CHECK_FALSE(normalize_target_path("/%00"));
    CHECK_FALSE(normalize_target_path("/%zz"));
    CHECK_FALSE(normalize_target_path("/%2"));
    CHECK_FALSE(normalize_target_path("/abc%"));
    CHECK_FALSE(normalize_target_path("http://host/x"));
    CHECK_FALSE(normalize_target_path("*"));
    CHECK_FALSE(normalize_target_path(""));
    CHECK(status_of(get("/%2e%2e/%2e%2e/etc/passwd")) == 400);
}

TEST_CASE("http parser: single byte ranges, ignored and unsatisfiable ones") {
    using K = ByteRange::Kind;
    auto r = apps::parse_byte_range("bytes=0-9", 100);
    CHECK((r.kind == K::partial && r.first == 0 && r.last == 9));
    r = apps::parse_byte_range("bytes=90-", 100);
    CHECK((r.kind == K::partial && r.first == 90 && r.last == 99));
    r = apps::parse_byte_range("bytes=-10", 100);
    CHECK((r.kind == K::partial && r.first == 90 && r.last == 99));
    r = apps::parse_byte_range("bytes=-1000", 100);
    CHECK((r.kind == K::partial && r.first == 0 && r.last == 99));
    r = apps::parse_byte_range("bytes=50-5000", 100);
    CHECK((r.kind == K::partial && r.last == 99));
    CHECK(apps::parse_byte_range("bytes=100-", 100).kind == K::unsatisfiable);
    CHECK(apps::parse_byte_range("bytes=-0", 100).kind == K::unsatisfiable);
    CHECK(apps::parse_byte_range("bytes=0-", 0).kind == K::unsatisfiable);
    CHECK(apps::parse_byte_range("bytes=9-1", 100).kind == K::whole);
    CHECK(apps::parse_byte_range("bytes=0-1,5-6", 100).kind == K::whole);
    CHECK(apps::parse_byte_range("items=0-1", 100).kind == K::whole);
    CHECK(apps::parse_byte_range("bytes=a-b", 100).kind == K::whole);
    CHECK(apps::parse_byte_range("bytes=99999999999999999999-", 100).kind == K::whole);
    CHECK(apps::parse_byte_range("bytes=", 100).kind == K::whole);
}

TEST_CASE("http parser: head end, content types, random bytes never crash") {
    CHECK(apps::find_head_end("GET / HTTP/1.1\r\nHost: a\r\n") == std::string_view::npos);
    CHECK(apps::find_head_end("GET / HTTP/1.1\r\n\r\nextra") == 18);
    CHECK(apps::find_head_end("GET / HTTP/1.0\n\nextra") == 16);
    CHECK(apps::content_type_for("/a/b.HTML") == "text/html; charset=utf-8");
    CHECK(apps::content_type_for("/a.b/c") == "application/octet-stream");
    CHECK(apps::content_type_for("/x.png") == "image/png");
    std::mt19937 random(3);
    for (int i = 0; i < 20'000; ++i) {
        std::string s = "GET /";
        const int n = static_cast<int>(random() % 64);
        for (int k = 0; k < n; ++k) s.push_back(static_cast<char>(random() % 256));
        s += "\r\n\r\n";
        const auto p = apps::parse_http_request(s);
        CHECK((p.status == 0 || (p.status >= 400 && p.status < 500)));
        if (p.status == 0) CHECK(p.request.path.find("..") == std::string::npos);
    }
}

TEST_CASE("http server: GET and HEAD, then keep-alive pipelining on one connection") {
    HttpRun run;
    auto rs = split_responses(run.exchange(get("/data.bin") +
                                           "HEAD /index.html HTTP/1.1\r\n"
                                           "Host: x\r\n\r\n" +
                                           get("/sub/")),
                              {false, true, false});
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == run.data);
    CHECK(rs[0].headers["content-type"] == "application/octet-stream");
    CHECK(rs[0].headers.count("connection") == 0);
    CHECK(rs[1].status == 200);
    CHECK(rs[1].headers["content-length"] == "12");
    CHECK(rs[1].headers["content-type"] == "text/html; charset=utf-8");
    CHECK(rs[1].body.empty());
    CHECK(rs[2].body == "sub\n");
    CHECK(run.counter("connections") == 1);
    CHECK(run.counter("requests") == 3);
    CHECK(run.counter("responses_2xx") == 3);
    CHECK(run.counter("body_bytes") == run.data.size() + 4);
}

TEST_CASE("http server: 404, traversal, symlinks out of the root, 405 with Allow") {
    HttpRun run;
    auto rs = split_responses(run.exchange(get("/missing") + get("/out/passwd") + get("/in.bin") +
                                           "PUT / HTTP/1.1\r\nHost: x\r\n\r\n"),
                              {});
    REQUIRE(rs.size() == 4);
    CHECK(rs[0].status == 404);
    CHECK(rs[1].status == 404);  // the symlink leads out of the root
    CHECK(rs[2].status == 200);  // a symlink inside the root is fine
    CHECK(rs[2].body.size() == run.data.size());
    CHECK(rs[3].status == 405);
    CHECK(rs[3].headers["allow"] == "GET, HEAD");
    CHECK(rs[3].headers["connection"] == "close");
    for (const char* target : {"/../etc/passwd", "/%2e%2e/etc/passwd", "/sub/%2E%2E/%2e%2e/x"}) {
        auto r = split_responses(run.exchange(get(target)), {});
        REQUIRE(r.size() == 1);
        CHECK(r[0].status == 400);
        CHECK(r[0].body.find("passwd") == std::string::npos);
    }
    CHECK(run.counter("not_found") == 2);
    CHECK(run.counter("responses_4xx") == 6);
}

TEST_CASE("http server: range requests give 206 or 416") {
    HttpRun run;
    auto rs = split_responses(
        run.exchange("GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-70999\r\n\r\n"
                     "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\n"
                     "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=400000-\r\n\r\n"),
        {});
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].status == 206);
    CHECK(rs[0].headers["content-range"] == "bytes 1000-70999/300000");
    CHECK(rs[0].body == run.data.substr(1000, 70000));
    CHECK(rs[1].status == 206);
    CHECK(rs[1].body == run.data.substr(run.data.size() - 10));
    CHECK(rs[2].status == 416);
    CHECK(rs[2].headers["content-range"] == "bytes */300000");
}

TEST_CASE("http server: a malformed request gets 400 and the server still serves") {
    HttpRun run;
    auto bad = split_responses(run.exchange("GARBAGE\r\n\r\n" + get("/index.html")), {});
    REQUIRE(bad.size() == 1);  // the connection closes after the 400
    CHECK(bad[0].status == 400);
    CHECK(bad[0].headers["connection"] == "close");
    auto good = split_responses(run.exchange(get("/index.html")), {});
    REQUIRE(good.size() == 1);
    CHECK(good[0].status == 200);
    CHECK(run.counter("bad_requests") == 1);
    // HTTP/1.0: the server closes after one response.
    auto old = split_responses(run.exchange("GET / HTTP/1.0\r\n\r\n"), {});
    REQUIRE(old.size() == 1);
    CHECK(old[0].headers["connection"] == "close");
}

TEST_CASE("http server: oversized heads get 431 or 414, a slow head 408 after idle_timeout") {
    HttpRun run;
    std::string big = "GET / HTTP/1.1\r\nHost: x\r\n";
    while (big.size() < 9000) big += "X-Filler: " + std::string(100, 'f') + "\r\n";
    auto rs = split_responses(run.exchange(big + "\r\n"), {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 431);
    rs = split_responses(run.exchange("GET /" + std::string(9000, 'a')), {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 414);

    // Slowloris: half a head, then silence (the connection stays open from our side).
    std::string received;
    std::optional<IoStatus> end;
    netloom::Time at{};
    auto slow = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 80});
        const std::string part = "GET / HTTP/1.1\r\nHost: x\r\n";
        co_await s.write_all({reinterpret_cast<const std::uint8_t*>(part.data()), part.size()});
        std::vector<std::uint8_t> buffer(4096);
        for (;;) {
            IoResult r = co_await s.read(buffer);
            received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
            if (!r.ok()) {
                end = r.status;
                break;
            }
        }
        at = run.sched.now();
    };
    const auto start = run.sched.now();
    run.scope.spawn(slow());
    run.sched.advance(5s);
    CHECK(received.rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(end == IoStatus::eof);
    CHECK(at - start >= 2s);
    CHECK(at - start < 2100ms);
    CHECK(run.counter("timeouts") == 1);
    CHECK(run.counter("connections_current") == 0);
}

TEST_CASE("http config: root must be a directory, limits are checked") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    TcpAppTestEnv env(sched, &tcp);
    const auto build = [&](const std::string& yaml) {
        return apps::make_http(Config::load_string(yaml, "bad.yaml"), env);
    };
    CHECK_THROWS_AS(build("port: 80\n"), ConfigError);
    CHECK_THROWS_AS(build("root: /nonexistent/dir\n"), ConfigError);
    CHECK_THROWS_AS(build("root: /etc/passwd\n"), ConfigError);
    CHECK_THROWS_AS(build("root: /tmp\nmax_request_bytes: 10\n"), ConfigError);
    CHECK_THROWS_AS(build("root: /tmp\ntransport: udp\n"), ConfigError);
    CHECK_NOTHROW(build("root: /tmp\nmax_connections: 8\nidle_timeout: 1s\n"));
}

TEST_CASE("http parser: Host must be a valid uri-host with an optional port") {
    for (const char* host : {"example.com", "example.com:8080", "10.0.0.2:80", "[::1]:80",
                             "a-b_c~d.e", "%41b", "", "x:"}) {
        INFO(host);
        CHECK(status_of("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n") == 0);
    }
    for (const char* host : {"a b", "a/b", "a@b", "a:80x", "a:8:0", "[::1", "[]", "%4", "%zz",
                             "a\"b", "[::1]x", "a?b"}) {
        INFO(host);
        CHECK(status_of("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n") == 400);
    }
    CHECK(status_of("GET / HTTP/1.0\r\nHost: a b\r\n\r\n") == 400);  // checked in 1.0 too
}

TEST_CASE("http parser: Range is kept for GET only and dropped with If-Range") {
    const auto get_range =
        apps::parse_http_request("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n");
    CHECK(get_range.request.range == "bytes=0-1");
    const auto head_range =
        apps::parse_http_request("HEAD / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n");
    REQUIRE(head_range.status == 0);
    CHECK_FALSE(head_range.request.range);
    const auto if_range = apps::parse_http_request(
        "GET / HTTP/1.1\r\nHost: a\r\nIf-Range: \"abc\"\r\nRange: bytes=0-1\r\n\r\n");
    REQUIRE(if_range.status == 0);
    CHECK_FALSE(if_range.request.range);
}

TEST_CASE("http parser: find_head_end resumed after a shorter scan gives the same answer") {
    for (const std::string& head : {std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"),
                                    std::string("GET / HTTP/1.0\n\nrest"),
                                    std::string("GET / HTTP/1.1\nHost: a\n\r\nrest")}) {
        const std::size_t whole = apps::find_head_end(head);
        REQUIRE(whole != std::string_view::npos);
        for (std::size_t k = 0; k < whole; ++k) {  // k bytes had arrived and were scanned
            INFO(head << " after " << k);
            const std::string_view seen(head.data(), k);
            REQUIRE(apps::find_head_end(seen) == std::string_view::npos);
            CHECK(apps::find_head_end(head, k >= 2 ? k - 2 : 0) == whole);
        }
    }
}

TEST_CASE("http server: HEAD and If-Range ignore Range, visit_counters before start") {
    HttpRun run;
    auto rs = split_responses(
        run.exchange("HEAD /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
                     "HEAD /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=400000-\r\n\r\n"
                     "GET /data.bin HTTP/1.1\r\nHost: x\r\nIf-Range: \"v1\"\r\n"
                     "Range: bytes=0-9\r\n\r\n"),
        {true, true, false});
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].headers["content-length"] == "300000");
    CHECK(rs[1].status == 200);  // not 416: no range handling for HEAD
    CHECK(rs[2].status == 200);
    CHECK(rs[2].body == run.data);
    auto unstarted = apps::make_http(
        Config::load_string("root: " + run.root.string() + "\n", "http.yaml"), run.env);
    CHECK(netloom::testing::counter(*unstarted, "requests") == 0);
}

namespace {

// A slow link with a large send buffer: the server queues the whole 300 KB response long
// before the client has it (1400 B per 20 ms, about 4.3 s).
FakeTcpEngine::Options slow_link() {
    FakeTcpEngine::Options o;
    o.sndbuf = 256 * 1024;
    o.latency = 20ms;
    return o;
}

}  // namespace

TEST_CASE("http server: a response still draining when the server closes arrives whole") {
    HttpRun run(slow_link());
    // HTTP/1.0 and a client that waits for the server's FIN before closing (like curl).
    auto rs = split_responses(run.exchange("GET /data.bin HTTP/1.0\r\n\r\n", 20s, false), {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == run.data);
    CHECK(run.counter("completed") == 1);
    CHECK(run.counter("connections_current") == 0);
}

TEST_CASE("http server: keep-alive waits for the next request while the last response drains") {
    HttpRun run(slow_link());
    std::string received;
    std::optional<IoStatus> end;
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 80});
        const auto send = [&](const std::string& text) {
            return s.write_all({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
        };
        co_await send(get("/data.bin"));
        std::vector<std::uint8_t> buffer(4096);
        // The whole first response (longer than idle_timeout to arrive), then the next request.
        for (;;) {
            const std::size_t head = received.find("\r\n\r\n");
            if (head != std::string::npos && received.size() >= head + 4 + run.data.size()) break;
            IoResult r = co_await s.read(buffer, run.sched.now() + 10s);
            received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
            if (!r.ok()) co_return;
        }
        co_await send("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        for (;;) {
            IoResult r = co_await s.read(buffer, run.sched.now() + 10s);
            received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
            if (!r.ok()) {
                end = r.status;
                break;
            }
        }
        co_await s.close();
    };
    run.scope.spawn(client());
    run.sched.advance(20s);
    CHECK(end == IoStatus::eof);
    auto rs = split_responses(received, {});
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].body == run.data);
    CHECK(rs[1].status == 200);
    CHECK(rs[1].body == "<h1>hi</h1>\n");
    CHECK(run.counter("timeouts") == 0);
}

TEST_CASE("http server: open_served_file refuses FIFOs, symlinks and directories at once") {
    HttpRun run;
    REQUIRE(::mkfifo((run.root / "fifo").c_str(), 0600) == 0);
    const int root_fd = ::open(run.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(root_fd >= 0);
    const auto open = [&](const char* relative) {
        const int fd = apps::open_served_file(root_fd, run.root, relative);
        if (fd >= 0) ::close(fd);
        return fd >= 0;
    };
    CHECK(open("data.bin"));
    CHECK(open("sub/index.html"));
    CHECK_FALSE(open("fifo"));    // would block in a plain open(O_RDONLY) with no writer
    CHECK_FALSE(open("in.bin"));  // a symlink (the caller passes canonical paths)
    CHECK_FALSE(open("out/passwd"));
    CHECK_FALSE(open("sub"));
    CHECK_FALSE(open("missing"));
    ::close(root_fd);
    // A request for the FIFO is a 404 and does not block the server.
    auto rs = split_responses(run.exchange(get("/fifo") + get("/index.html")), {});
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].status == 404);
    CHECK(rs[1].status == 200);
}
