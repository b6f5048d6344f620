// http: persistent connections (RFC 9112 9.3) — HTTP/1.0 keep-alive as RFC 9112 C.2.2 describes
// it (the client asks with the "keep-alive" connection option, the server echoes it and frames
// every response with Content-Length), HTTP/1.0 without it closing, and HTTP/1.1 unchanged.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "http_request.hpp"
#include "http_test_support.hpp"

using namespace std::chrono_literals;
using netloom::Task;
using netloom::testing::kOwn;
using netloom::testing::http::HttpRun;
using netloom::testing::http::split_responses;
namespace apps = netloom::apps;
using apps::IoResult;
using apps::IoStatus;
using apps::TcpStream;

namespace {

bool persists(const std::string& head) {
    const apps::HttpParse p = apps::parse_http_request(head);
    REQUIRE(p.status == 0);
    return p.request.keep_alive;
}

std::string field(std::string_view connection) {
    return "GET / HTTP/1.0\r\n" + std::string(connection) + "\r\n";
}

// An HTTP/1.0 request as `ab -k` words it.
std::string get10_keep_alive(const std::string& target, const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\n\r\n";
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Reads into `received` until it holds one whole response (Content-Length framed) more than
// `before` bytes of it did; the status of the last read when the stream ended first.
Task<IoStatus> read_response(TcpStream& s, std::string& received, std::size_t before,
                             netloom::Time deadline) {
    std::vector<std::uint8_t> buffer(4096);
    for (;;) {
        if (received.find("\r\n\r\n", before) != std::string::npos) {
            const auto rs = split_responses(received.substr(before), {});
            if (rs[0].body.size() == std::stoul(rs[0].headers.at("content-length"))) {
                co_return IoStatus::ok;
            }
        }
        const IoResult r = co_await s.read(buffer, deadline);
        received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
        if (!r.ok()) co_return r.status;
    }
}

}  // namespace

TEST_CASE("http parser: HTTP/1.0 persists only with the keep-alive option (RFC 9112 9.3, C.2.2)") {
    CHECK_FALSE(persists("GET / HTTP/1.0\r\n\r\n"));
    CHECK(persists(field("Connection: keep-alive")));
    CHECK(persists(field("Connection: Keep-Alive")));  // what ab -k sends
    CHECK(persists(field("connection: KEEP-ALIVE")));
    CHECK(persists(field("Connection: TE, keep-alive")));  // a list (RFC 9110 7.6.1)
    CHECK(persists(field("Connection:  foo ,keep-alive , bar")));
    CHECK(persists(field("Connection: , keep-alive,")));  // empty list elements (RFC 9110 5.6.1)
    CHECK(persists(field("Connection: foo\r\nConnection: keep-alive")));  // one list (RFC 9110 5.3)
    CHECK_FALSE(persists(field("Connection: keep-alive, close")));        // close wins
    CHECK_FALSE(persists(field("Connection: keep-alive\r\nConnection: Close")));
    CHECK_FALSE(persists(field("Connection: keep-alive-x")));  // whole tokens only
    CHECK_FALSE(persists(field("Connection: keepalive")));
    CHECK_FALSE(persists(field("Connection: \"keep-alive\"")));
    CHECK_FALSE(persists(field("Keep-Alive: timeout=5")));  // not an option without Connection
    // HTTP/1.1 persists unless told to close, whatever else the field lists.
    CHECK(persists("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK(persists("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"));
    CHECK_FALSE(persists("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST_CASE("http parser: the response's Connection field echoes keep-alive to HTTP/1.0 only") {
    const auto of = [](const std::string& head) {
        return std::string(apps::connection_field(apps::parse_http_request(head).request));
    };
    CHECK(of(field("Connection: Keep-Alive")) == "Connection: keep-alive\r\n");
    CHECK(of("GET / HTTP/1.0\r\n\r\n") == "Connection: close\r\n");
    CHECK(of("GET / HTTP/1.1\r\nHost: a\r\n\r\n").empty());  // persistent by default
    CHECK(of("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").empty());
    CHECK(of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == "Connection: close\r\n");
}

TEST_CASE("http server: HTTP/1.0 keep-alive GET, HEAD, 404 and 416 share one connection") {
    HttpRun run;
    // Pipelined, and the client never half-closes: the server itself must close after the last
    // request, the only one without keep-alive.
    const std::string requests =
        get10_keep_alive("/index.html") + get10_keep_alive("/data.bin", "HEAD") +
        get10_keep_alive("/missing") + get10_keep_alive("/missing", "HEAD") +
        "GET /data.bin HTTP/1.0\r\nConnection: keep-alive\r\nRange: bytes=400000-\r\n\r\n" +
        "GET /sub/ HTTP/1.0\r\n\r\n";
    auto rs = split_responses(run.exchange(requests, 1s, false),
                              {false, true, false, true, false, false});
    REQUIRE(rs.size() == 6);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == "<h1>hi</h1>\n");
    CHECK(rs[1].status == 200);
    CHECK(rs[1].headers["content-length"] == "300000");  // HEAD: the GET's length, no body
    CHECK(rs[1].body.empty());
    CHECK(rs[2].status == 404);  // an error with a known length keeps the connection
    CHECK(rs[3].status == 404);
    CHECK(rs[3].body.empty());
    CHECK(rs[4].status == 416);
    for (std::size_t i = 0; i < 5; ++i) {
        INFO(i);
        CHECK(rs[i].headers["connection"] == "keep-alive");
        CHECK(rs[i].headers.count("content-length") == 1);
    }
    CHECK(rs[5].status == 200);
    CHECK(rs[5].body == "sub\n");
    CHECK(rs[5].headers["connection"] == "close");
    CHECK(run.counter("connections") == 1);
    CHECK(run.counter("requests") == 6);
    CHECK(run.counter("completed") == 1);
}

TEST_CASE("http server: a request that ends the stream closes a keep-alive HTTP/1.0 connection") {
    HttpRun run;
    // 405 (and 400, 413...): the server cannot tell where the next request starts.
    auto rs = split_responses(
        run.exchange(get10_keep_alive("/", "POST") + get10_keep_alive("/index.html"), 1s, false),
        {});
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 405);
    CHECK(rs[0].headers["connection"] == "close");
    CHECK(rs[0].headers["content-length"] == "23");  // "405 Method Not Allowed\n"
    CHECK(run.counter("requests") == 1);
}

TEST_CASE("http server: a keep-alive HTTP/1.0 connection waits idle_timeout for the next request") {
    HttpRun run;  // idle_timeout 2s
    std::string received;
    std::optional<IoStatus> between, after, first, second;
    netloom::Time answered{}, closed{};
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 80});
        co_await s.write_all(bytes_of(get10_keep_alive("/index.html")));
        first = co_await read_response(s, received, 0, run.sched.now() + 10s);
        // Quiet for less than idle_timeout: the connection must still be open.
        std::vector<std::uint8_t> buffer(64);
        between = (co_await s.read(buffer, run.sched.now() + 1500ms)).status;
        const std::size_t before = received.size();
        co_await s.write_all(bytes_of(get10_keep_alive("/sub/")));
        second = co_await read_response(s, received, before, run.sched.now() + 10s);
        answered = run.sched.now();
        // Then silence: the server closes (FIN, no 408: no request was begun).
        const IoResult r = co_await s.read(buffer, run.sched.now() + 10s);
        after = r.status;
        received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
        closed = run.sched.now();
        co_await s.close();
    };
    run.scope.spawn(client());
    run.sched.advance(15s);
    CHECK(first == IoStatus::ok);
    CHECK(between == IoStatus::deadline);
    CHECK(second == IoStatus::ok);
    CHECK(after == IoStatus::eof);
    // idle_timeout counts from the acknowledgment of the last response, which the server
    // checks once per idle_timeout: the response was acknowledged after the first period
    // began, so the close comes at the end of the second.
    CHECK(closed - answered >= 2s);
    CHECK(closed - answered <= 4100ms);
    auto rs = split_responses(received, {});
    REQUIRE(rs.size() == 2);
    CHECK(rs[1].body == "sub\n");
    CHECK(rs[1].headers["connection"] == "keep-alive");
    CHECK(run.counter("connections") == 1);
    CHECK(run.counter("timeouts") == 1);
    CHECK(run.counter("connections_current") == 0);
}
