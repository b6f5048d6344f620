// echo (RFC 862), discard (RFC 863) and chargen (RFC 864) servers on FakeTcpEngine and
// FakeIpLayer: data, flow control, the connection bound, idle timeouts, UDP, config errors.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "chargen.hpp"
#include "discard.hpp"
#include "echo.hpp"
#include "fake_ip_layer.hpp"
#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "test_addresses.hpp"
#include "wait_list.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Task;
using netloom::testing::counter;
using netloom::testing::FakeIpLayer;
using netloom::testing::FakeTcpEngine;
using netloom::testing::ManualScheduler;
namespace apps = netloom::apps;
using apps::IoResult;
using apps::IoStatus;
using apps::TcpStream;

namespace {

// An Env with both a TCP engine and an IP layer (for transport: both).
class BothEnv final : public netloom::Env {
public:
    BothEnv(netloom::Scheduler& s, netloom::TcpEngine& tcp, netloom::IpLayer& ip)
        : scheduler_(s), tcp_(tcp), ip_(ip) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    netloom::Scheduler& scheduler() override { return scheduler_; }
    netloom::Checksum& checksum() override { throw std::logic_error("no checksum"); }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<netloom::NetDevice> make_device(const Config&) override {
        throw std::logic_error("no device");
    }
    netloom::IpLayer& ip() override { return ip_; }
    netloom::TcpEngine& tcp() override { return tcp_; }

private:
    netloom::Scheduler& scheduler_;
    netloom::TcpEngine& tcp_;
    netloom::IpLayer& ip_;
    std::string name_ = "test";
};

using Factory = std::unique_ptr<App> (*)(const Config&, netloom::Env&);
using netloom::testing::kOwn;

struct Run {
    explicit Run(FakeTcpEngine::Options options = {}) : tcp(sched, kOwn, options) {}
    ManualScheduler sched;
    FakeTcpEngine tcp;
    FakeIpLayer ip{sched, kOwn, 100us};
    BothEnv env{sched, tcp, ip};
    apps::TaskScope scope{sched};  // the test's client coroutines
    std::unique_ptr<App> server;

    void start(Factory factory, const std::string& yaml) {
        server = factory(Config::load_string(yaml, "server.yaml"), env);
        REQUIRE_FALSE(server->finite());
        server->start([](int) { FAIL("a server never finishes"); });
        sched.run_until_idle();
    }
    std::uint64_t get(std::string_view name) const { return counter(*server, name); }
};

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 13 + i / 97);
    return v;
}

}  // namespace

TEST_CASE("echo tcp: 100 KB come back intact, then a clean close") {
    Run run;
    run.start(apps::make_echo, "port: 7\n");
    const auto data = pattern(100'000);
    std::vector<std::uint8_t> back(data.size());
    IoResult got{}, end{};
    std::optional<TcpStream> stream;
    auto writer = [&]() -> Task<void> {
        co_await stream->write_all(data);
        stream->shutdown();
    };
    auto client = [&]() -> Task<void> {
        stream.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7}));
        run.scope.spawn(writer());
        got = co_await stream->read_exact(back);
        std::uint8_t byte = 0;
        end = co_await stream->read({&byte, 1});
        co_await stream->close();
    };
    run.scope.spawn(client());
    run.sched.advance(1s);
    CHECK(got.ok());
    CHECK(back == data);
    CHECK(end.status == IoStatus::eof);
    CHECK(run.get("bytes_received") == data.size());
    CHECK(run.get("bytes_sent") == data.size());
    CHECK(run.get("completed") == 1);
    CHECK(run.get("connections_current") == 0);
}

TEST_CASE("echo tcp: a peer that does not read stalls the echo, memory stays bounded") {
    Run run;
    run.start(apps::make_echo, "port: 7\n");
    const auto data = pattern(300'000);
    std::optional<TcpStream> stream;
    IoResult sent{};
    auto writer = [&]() -> Task<void> {
        stream.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7}));
        sent = co_await stream->write_all(data);
    };
    run.scope.spawn(writer());
    run.sched.advance(1s);
    // Stalled: the server holds at most its 16 KiB buffer, the engine its small queues.
    CHECK(run.get("bytes_received") < 40'000);
    CHECK(run.tcp.memory_in_use() < 30'000);
    const auto stalled_at = run.get("bytes_received");
    run.sched.advance(1s);
    CHECK(run.get("bytes_received") == stalled_at);
    // Reading again lets everything through.
    std::vector<std::uint8_t> back(data.size());
    IoResult got{};
    auto reader = [&]() -> Task<void> { got = co_await stream->read_exact(back); };
    run.scope.spawn(reader());
    run.sched.advance(2s);
    CHECK(sent.ok());
    CHECK(got.ok());
    CHECK(back == data);
}

TEST_CASE("echo tcp: max_connections resets the connection over the bound") {
    Run run;
    run.start(apps::make_echo, "port: 7\nmax_connections: 2\n");
    std::vector<TcpStream> held;
    std::optional<IoStatus> third;
    auto client = [&]() -> Task<void> {
        for (int i = 0; i < 2; ++i) {
            held.push_back(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7}));
        }
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7});
        std::uint8_t byte = 0;
        third = (co_await s.read({&byte, 1})).status;
    };
    run.scope.spawn(client());
    run.sched.advance(100ms);
    CHECK(third == IoStatus::reset);
    CHECK(run.get("connections") == 2);
    CHECK(run.get("connections_refused") == 1);
    CHECK(run.get("connections_current") == 2);
}

TEST_CASE("echo tcp: idle_timeout resets a silent connection and counts it") {
    Run run;
    run.start(apps::make_echo, "port: 7\nidle_timeout: 2s\n");
    std::optional<IoStatus> seen;
    netloom::Time at{};
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7});
        std::uint8_t byte = 0;
        seen = (co_await s.read({&byte, 1})).status;
        at = run.sched.now();
    };
    run.scope.spawn(client());
    run.sched.advance(5s);
    CHECK(seen == IoStatus::reset);
    CHECK(at >= 2s);
    CHECK(at < 2100ms);
    CHECK(run.get("timeouts") == 1);
    CHECK(run.get("connections_current") == 0);
}

TEST_CASE("echo and discard udp: echo answers each datagram, discard only counts") {
    Run run;
    run.start(apps::make_echo, "port: 7\ntransport: both\n");
    auto discard = apps::make_discard(Config::load_string("transport: udp\n", "d.yaml"), run.env);
    discard->start([](int) {});
    apps::UdpChannel channel(run.sched, run.ip, 0);
    std::vector<std::vector<std::uint8_t>> replies;
    auto client = [&]() -> Task<void> {
        for (std::size_t size : {1, 100, 1400}) {
            const auto data = pattern(size);
            CHECK(channel.send_to({kOwn, 7}, data) == IoStatus::ok);
            CHECK(channel.send_to({kOwn, 9}, data) == IoStatus::ok);
            auto r = co_await channel.receive(run.sched.now() + 10ms);
            if (r.datagram)
                replies.emplace_back(r.datagram->payload.bytes().begin(),
                                     r.datagram->payload.bytes().end());
        }
        auto none = co_await channel.receive(run.sched.now() + 10ms);
        CHECK(none.status == IoStatus::deadline);  // discard sent nothing back
    };
    run.scope.spawn(client());
    run.sched.advance(1s);
    REQUIRE(replies.size() == 3);
    CHECK(replies[2] == pattern(1400));
    CHECK(run.get("datagrams_received") == 3);
    CHECK(run.get("datagrams_sent") == 3);
    CHECK(counter(*discard, "datagrams_received") == 3);
    CHECK(counter(*discard, "bytes_received") == 1501);
    CHECK(counter(*discard, "datagrams_sent") == 0);
}

TEST_CASE("discard tcp: reads everything, sends nothing, closes after the FIN") {
    Run run;
    run.start(apps::make_discard, "port: 9\n");
    IoResult end{};
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 9});
        co_await s.write_all(pattern(50'000));
        s.shutdown();
        std::uint8_t byte = 0;
        end = co_await s.read({&byte, 1});
        co_await s.close();
    };
    run.scope.spawn(client());
    run.sched.advance(1s);
    CHECK(end.status == IoStatus::eof);
    CHECK(end.bytes == 0);
    CHECK(run.get("bytes_received") == 50'000);
    CHECK(run.get("bytes_sent") == 0);
    CHECK(run.get("completed") == 1);
}

TEST_CASE("chargen: the RFC 864 lines, flow control with a stalled reader, stop on reset") {
    const auto cycle = apps::chargen_cycle();
    REQUIRE(cycle.size() == 95 * 74);
    const std::string first(cycle.begin(), cycle.begin() + 74);
    CHECK(first.substr(0, 10) == " !\"#$%&'()");
    CHECK(first.substr(70) == "fg\r\n");
    CHECK(std::string(cycle.begin() + 74, cycle.begin() + 77) == "!\"#");
    CHECK(cycle[94 * 74] == '~');  // the last line starts with the last printable character
    CHECK(cycle[94 * 74 + 1] == ' ');

    Run run;
    run.start(apps::make_chargen, "port: 19\n");
    std::optional<TcpStream> stream;
    std::vector<std::uint8_t> got(20'000);
    IoResult read{};
    auto client = [&]() -> Task<void> {
        stream.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 19}));
        read = co_await stream->read_exact(got);
        // then stop reading
    };
    run.scope.spawn(client());
    run.sched.advance(500ms);
    REQUIRE(read.ok());
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != cycle[i % cycle.size()]) FAIL("byte " << i << " differs");
    }
    const auto sent = run.get("bytes_sent");
    run.sched.advance(2s);
    CHECK(run.get("bytes_sent") == sent);  // waiting in write_all
    CHECK(sent < got.size() + 30'000);
    CHECK(run.tcp.memory_in_use() < 20'000);
    stream->abort();
    run.sched.advance(100ms);
    CHECK(run.get("errors") == 1);
    CHECK(run.get("connections_current") == 0);
}

TEST_CASE("chargen: the peer's FIN ends the stream with a clean close") {
    Run run;
    run.start(apps::make_chargen, "port: 19\n");
    IoStatus last = IoStatus::ok;
    std::uint64_t total = 0;
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 19});
        co_await s.write_all(pattern(100));  // discarded by the server
        s.shutdown();
        std::vector<std::uint8_t> buffer(4096);
        for (;;) {
            IoResult r = co_await s.read(buffer, run.sched.now() + 1s);
            total += r.bytes;
            if (!r.ok()) {
                last = r.status;
                break;
            }
        }
        co_await s.close();
    };
    run.scope.spawn(client());
    run.sched.advance(5s);
    CHECK(last == IoStatus::eof);
    CHECK(total == run.get("bytes_sent"));
    CHECK(run.get("bytes_received") == 100);
    CHECK(run.get("completed") == 1);
}

TEST_CASE("small servers config: bad keys and values fail at the key") {
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn);
    FakeIpLayer ip(sched, kOwn, 100us);
    BothEnv env(sched, tcp, ip);
    const auto build = [&](Factory f, const std::string& yaml) {
        return f(Config::load_string(yaml, "bad.yaml"), env);
    };
    CHECK_THROWS_AS(build(apps::make_chargen, "transport: udp\n"), ConfigError);
    CHECK_THROWS_AS(build(apps::make_echo, "transport: sctp\n"), ConfigError);
    CHECK_THROWS_AS(build(apps::make_echo, "max_connections: 0\n"), ConfigError);
    CHECK_THROWS_AS(build(apps::make_discard, "port: 70000\n"), ConfigError);
    CHECK_THROWS_AS(build(apps::make_discard, "idle_timeout: -1s\n"), ConfigError);
    CHECK_NOTHROW(build(apps::make_echo, "{}\n"));
}

TEST_CASE("echo tcp: idle_timeout spares a slow but steady reader") {
    FakeTcpEngine::Options buffers;
    buffers.rcvbuf = 32 * 1024;  // the echo reads whole 16 KiB buffers
    Run run(buffers);
    run.start(apps::make_echo, "port: 7\nidle_timeout: 1s\n");
    const auto data = pattern(100'000);
    std::vector<std::uint8_t> back;
    std::optional<IoStatus> end;
    std::optional<TcpStream> stream;
    auto writer = [&]() -> Task<void> {
        co_await stream->write_all(data);
        stream->shutdown();
    };
    auto client = [&]() -> Task<void> {
        stream.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 7}));
        run.scope.spawn(writer());
        // 700 B every 100 ms: one 16 KiB echo write takes over 2 s to be accepted.
        apps::WaitList pace(run.sched);
        std::vector<std::uint8_t> buffer(700);
        for (;;) {
            co_await pace.wait(run.sched.now() + 100ms);
            const IoResult r = co_await stream->read(buffer);
            if (!r.ok()) {
                end = r.status;
                break;
            }
            back.insert(back.end(), buffer.begin(), buffer.begin() + r.bytes);
        }
        co_await stream->close();
    };
    run.scope.spawn(client());
    run.sched.advance(60s);
    CHECK(back == data);
    CHECK(end == IoStatus::eof);
    CHECK(run.get("timeouts") == 0);
    CHECK(run.get("completed") == 1);
}

TEST_CASE("small servers: a silent connection is reset after the default idle_timeout of 5 min") {
    for (const auto& [factory, port] :
         {std::pair<Factory, std::uint16_t>{apps::make_echo, 7}, {apps::make_discard, 9}}) {
        Run run;
        run.start(factory, "port: " + std::to_string(port) + "\n");
        std::optional<IoStatus> seen;
        netloom::Time at{};
        auto client = [&, port = port]() -> Task<void> {
            TcpStream s = co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, port});
            std::uint8_t byte = 0;
            seen = (co_await s.read({&byte, 1})).status;
            at = run.sched.now();
        };
        run.scope.spawn(client());
        run.sched.advance(6min);
        CHECK(seen == IoStatus::reset);
        CHECK(at >= 5min);
        CHECK(at < 5min + 1s);
        CHECK(run.get("timeouts") == 1);
    }
}

TEST_CASE("chargen: a peer that never reads is reset after idle_timeout, counters before start") {
    Run run;
    auto unstarted = apps::make_chargen(Config::load_string("port: 19\n", "c.yaml"), run.env);
    CHECK(counter(*unstarted, "bytes_sent") == 0);  // visit_counters before start()
    run.start(apps::make_chargen, "port: 19\nidle_timeout: 2s\n");
    std::optional<TcpStream> held;
    auto client = [&]() -> Task<void> {
        held.emplace(co_await apps::tcp_connect(run.sched, run.tcp, {kOwn, 19}));
    };
    run.scope.spawn(client());
    run.sched.advance(10s);
    CHECK(run.get("timeouts") == 1);
    CHECK(run.get("connections_current") == 0);
    CHECK(held->connection().error() == netloom::TcpError::reset);
}
