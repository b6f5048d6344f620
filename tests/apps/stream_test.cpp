// The coroutine app API (stream.hpp, task_scope.hpp, wait_list.hpp) on FakeTcpEngine: connect,
// accept, read/write/read_exact with flow control, end of stream, errors as values, deadlines,
// and a TaskScope that ends suspended coroutines cleanly. Coroutine lambdas are named locals: a
// temporary closure would die while its coroutine still refers to its captures.
#include <catch2/catch.hpp>

#include <numeric>
#include <optional>
#include <stdexcept>
#include <vector>

#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::Ipv4Address;
using netloom::Task;
using netloom::TcpEndpoint;
using netloom::apps::IoResult;
using netloom::apps::IoStatus;
using netloom::apps::TaskScope;
using netloom::apps::tcp_connect;
using netloom::apps::TcpAcceptor;
using netloom::apps::TcpStream;
using netloom::apps::WaitList;
using netloom::testing::FakeTcpEngine;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    return v;
}

struct Fixture {
    ManualScheduler sched;
    FakeTcpEngine tcp{sched, kOwn};
    TaskScope scope{sched};
};

}  // namespace

TEST_CASE("stream: 200 KB through 4 KB buffers arrives intact then eof") {
    Fixture f;
    const auto data = pattern(200'000);
    std::vector<std::uint8_t> received;
    std::optional<IoStatus> client_end, server_end;
    TcpAcceptor acceptor(f.sched, f.tcp, 80);

    auto server = [&]() -> Task<void> {
        TcpStream s = co_await acceptor.accept();
        REQUIRE(s);
        std::vector<std::uint8_t> buffer(3000);
        for (;;) {
            IoResult r = co_await s.read(buffer);
            if (!r.ok()) {
                server_end = r.status;
                break;
            }
            received.insert(received.end(), buffer.begin(), buffer.begin() + r.bytes);
        }
        co_await s.close();
    };

    f.scope.spawn(server());
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(f.sched, f.tcp, {kOwn, 80});
        REQUIRE(s);
        IoResult w = co_await s.write_all(data);
        CHECK(w.bytes == data.size());
        s.shutdown();
        std::uint8_t byte;
        IoResult r = co_await s.read({&byte, 1});
        client_end = r.status;
    };
    f.scope.spawn(client());
    f.sched.run();
    CHECK(server_end == IoStatus::eof);
    CHECK(client_end == IoStatus::eof);
    CHECK(received == data);
    CHECK(f.scope.active() == 0);
}

TEST_CASE("stream: read_exact across chunks and eof before the end reports the bytes read") {
    Fixture f;
    TcpAcceptor acceptor(f.sched, f.tcp, 80);
    IoResult first{}, second{};
    auto server = [&]() -> Task<void> {
        TcpStream s = co_await acceptor.accept();
        std::vector<std::uint8_t> buffer(5000);
        first = co_await s.read_exact(buffer);
        second = co_await s.read_exact(buffer);
    };
    f.scope.spawn(server());
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(f.sched, f.tcp, {kOwn, 80});
        const auto data = pattern(7000);
        co_await s.write_all(data);
        co_await s.close();
    };
    f.scope.spawn(client());
    f.sched.run();
    CHECK(first.ok());
    CHECK(first.bytes == 5000);
    CHECK(second.status == IoStatus::eof);
    CHECK(second.bytes == 2000);
}

TEST_CASE("stream: connect errors are values (refused and unreachable)") {
    Fixture f;
    std::optional<IoStatus> refused, unreachable;
    auto client = [&]() -> Task<void> {
        TcpStream a = co_await tcp_connect(f.sched, f.tcp, {kOwn, 81});
        CHECK_FALSE(a);
        refused = a.status();
        TcpStream b = co_await tcp_connect(f.sched, f.tcp, {Ipv4Address(10, 9, 9, 9), 81});
        CHECK_FALSE(b);
        unreachable = b.status();
    };
    f.scope.spawn(client());
    f.sched.run();
    CHECK(refused == IoStatus::refused);
    CHECK(unreachable == IoStatus::unreachable);
}

TEST_CASE("stream: a peer reset reaches the reader as reset") {
    Fixture f;
    TcpAcceptor acceptor(f.sched, f.tcp, 80);
    std::optional<IoStatus> seen;
    auto server = [&]() -> Task<void> {
        TcpStream s = co_await acceptor.accept();
        s.abort();
        co_return;
    };
    f.scope.spawn(server());
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(f.sched, f.tcp, {kOwn, 80});
        std::vector<std::uint8_t> buffer(100);
        IoResult r = co_await s.read(buffer);
        seen = r.status;
    };
    f.scope.spawn(client());
    f.sched.run();
    CHECK(seen == IoStatus::reset);
}

TEST_CASE("stream: deadlines on read and accept expire at the scheduler time") {
    Fixture f;
    TcpAcceptor acceptor(f.sched, f.tcp, 80);
    std::optional<IoStatus> read_status, accept_status;
    netloom::Time read_at{}, accept_at{};
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(f.sched, f.tcp, {kOwn, 80});
        REQUIRE(s);
        std::vector<std::uint8_t> buffer(100);
        IoResult r = co_await s.read(buffer, f.sched.now() + 30ms);
        read_status = r.status;
        read_at = f.sched.now();
        // The accepted side was never accepted after the first: the next accept times out.
        TcpStream none = co_await acceptor.accept(f.sched.now() + 5ms);
        accept_status = none.status();
        accept_at = f.sched.now();
    };
    f.scope.spawn(client());
    TcpStream held;  // keeps the first accepted connection open (no data, no FIN)
    auto hold_accepted = [&]() -> Task<void> { held = co_await acceptor.accept(); };
    f.scope.spawn(hold_accepted());
    f.sched.run();
    CHECK(read_status == IoStatus::deadline);
    CHECK(accept_status == IoStatus::deadline);
    CHECK(accept_at - read_at == 5ms);
}

TEST_CASE("stream: full duplex with one reader and one writer on the same stream") {
    Fixture f;
    TcpAcceptor acceptor(f.sched, f.tcp, 80);
    const auto data = pattern(50'000);
    std::vector<std::uint8_t> echoed(data.size());
    IoResult echo_read{};
    // Server echoes everything back.
    auto echo_server = [&]() -> Task<void> {
        TcpStream s = co_await acceptor.accept();
        std::vector<std::uint8_t> buffer(1000);
        for (;;) {
            IoResult r = co_await s.read(buffer);
            if (!r.ok()) break;
            if (!(co_await s.write_all({buffer.data(), r.bytes})).ok()) break;
        }
        co_await s.close();
    };
    f.scope.spawn(echo_server());
    // Client: a writer coroutine and a reader coroutine share the stream.
    std::optional<TcpStream> stream;
    bool writer_done = false;
    auto writer = [&]() -> Task<void> {
        co_await stream->write_all(data);
        stream->shutdown();
        writer_done = true;
    };
    auto client = [&]() -> Task<void> {
        stream.emplace(co_await tcp_connect(f.sched, f.tcp, {kOwn, 80}));
        REQUIRE(*stream);
        f.scope.spawn(writer());
        echo_read = co_await stream->read_exact(echoed);
    };
    f.scope.spawn(client());
    f.sched.run();
    CHECK(writer_done);
    CHECK(echo_read.ok());
    CHECK(echoed == data);
}

TEST_CASE("task scope: destroying it ends coroutines suspended in reads and deadlines") {
    ManualScheduler sched;
    FakeTcpEngine tcp{sched, kOwn};
    TcpAcceptor acceptor(sched, tcp, 80);
    bool resumed_after = false;
    {
        TaskScope scope(sched);
        auto reader = [&]() -> Task<void> {
            TcpStream s = co_await acceptor.accept();
            std::vector<std::uint8_t> buffer(10);
            co_await s.read(buffer, sched.now() + 1h);  // never completes before the scope ends
            resumed_after = true;
        };
        scope.spawn(reader());
        auto waiter = [&]() -> Task<void> {
            TcpStream s = co_await tcp_connect(sched, tcp, {kOwn, 80});
            co_await s.read(std::span<std::uint8_t>{}, sched.now());
            WaitList never(sched);
            co_await never.wait();
            resumed_after = true;
        };
        scope.spawn(waiter());
        sched.advance(10ms);
        CHECK(scope.active() == 2);
    }
    // The read's 1 h timer was cancelled with its frame: advancing past it resumes nothing.
    sched.advance(2h);
    CHECK_FALSE(resumed_after);
}

TEST_CASE("wait list: a waiter that waits again is not woken twice by one notify") {
    ManualScheduler sched;
    WaitList list(sched);
    TaskScope scope(sched);
    int wakes = 0;
    auto waiter = [&]() -> Task<void> {
        for (;;) {
            co_await list.wait();
            ++wakes;
        }
    };
    scope.spawn(waiter());
    sched.run_until_idle();
    list.notify_now();
    CHECK(wakes == 1);
    list.notify_later();
    CHECK(wakes == 1);  // later: on the next loop turn
    sched.run_until_idle();
    CHECK(wakes == 2);
}

namespace {

// An engine whose connect fails locally, as real engines do without a free port.
class NoPortEngine final : public netloom::TcpEngine {
public:
    void start() override {}
    std::unique_ptr<netloom::TcpListener> listen(std::uint16_t, std::uint32_t) override {
        throw std::logic_error("not used");
    }
    std::unique_ptr<netloom::TcpConnection> connect(const TcpEndpoint&,
                                                    const netloom::TcpConnectOptions&) override {
        throw std::runtime_error("no free ephemeral port for this destination");
    }
    std::size_t memory_in_use() const noexcept override { return 0; }
    void visit_counters(const netloom::CounterVisitor&) const override {}
};

}  // namespace

TEST_CASE("stream: a connect the engine refuses locally is local_error with its message") {
    ManualScheduler sched;
    NoPortEngine engine;
    TaskScope scope(sched);
    std::optional<TcpStream> result;
    auto client = [&]() -> Task<void> {
        result.emplace(co_await tcp_connect(sched, engine, {kOwn, 80}));
    };
    scope.spawn(client());
    sched.run_until_idle();
    REQUIRE(result);
    CHECK_FALSE(*result);
    CHECK(result->status() == IoStatus::local_error);
    CHECK(result->detail() == "no free ephemeral port for this destination");
    CHECK(to_string(IoStatus::local_error) == "local_error");
}

TEST_CASE("stream: write_all_idle lets a slow but steady reader finish, cuts a stalled one") {
    FakeTcpEngine::Options slow;
    slow.latency = 300ms;  // 1400 B per 300 ms: 40 KB take about 9 s
    ManualScheduler sched;
    FakeTcpEngine tcp(sched, kOwn, slow);
    TaskScope scope(sched);
    TcpAcceptor acceptor(sched, tcp, 80);
    const auto data = pattern(40'000);
    IoResult steady{}, stalled{};
    std::vector<std::uint8_t> received;
    std::optional<TcpStream> held;
    auto writer = [&]() -> Task<void> {
        TcpStream s = co_await acceptor.accept();
        steady = co_await s.write_all_idle(data, 1s);  // slower than 1 s in total, never idle
        TcpStream t = co_await acceptor.accept();
        stalled = co_await t.write_all_idle(data, 1s);  // its reader never reads
    };
    auto reader = [&]() -> Task<void> {
        TcpStream s = co_await tcp_connect(sched, tcp, {kOwn, 80});
        std::vector<std::uint8_t> buffer(4096);
        while (received.size() < data.size()) {
            IoResult r = co_await s.read(buffer);
            if (!r.ok()) break;
            received.insert(received.end(), buffer.begin(), buffer.begin() + r.bytes);
        }
        held.emplace(co_await tcp_connect(sched, tcp, {kOwn, 80}));  // never read
    };
    scope.spawn(writer());
    scope.spawn(reader());
    sched.advance(30s);
    CHECK(steady.ok());
    CHECK(received == data);
    CHECK(stalled.status == IoStatus::deadline);
    CHECK(stalled.bytes < data.size());
}
