// The engine-wide memory budget (`tcp: {memory_limit: ...}`, tcp_common memory_budget.hpp) on
// both engines: under pressure windows stop opening (the right edge never retracts), out-of-order
// data is dropped first and new connections are refused; at the hard limit in-order data is
// dropped and app sends wait for writable; when the pressure ends a window update goes out and
// every transfer completes. The running total always equals a walk of the connections and its
// peak stays within the limit.
#include <catch2/catch.hpp>
#include <map>

#include "netloom/tcp_common/front_half.hpp"
#include "netloom/tcp_common/memory_budget.hpp"
#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

constexpr std::uint64_t kLimit = 256 * 1024;
// Small buffers, so a few dozen connections reach a small limit (its minimum follows them).
const std::string kSmallBuffers =
    "{rcvbuf: 4KiB, sndbuf: 4KiB, backlog: 1024, memory_limit: " + std::to_string(kLimit) + "}";

const tcp::FrontHalf& front_half(const TcpEngine& engine) {
    return dynamic_cast<const tcp::FrontHalf&>(engine);
}

/// The running total equals the walk, and the peak is within the limit.
void check_accounting(const TcpEngine& engine, std::uint64_t limit) {
    CHECK(engine.memory_in_use() == front_half(engine).memory_walked());
    CHECK(counter_of(engine, "memory_bytes_peak") <= limit);
}

/// Client connections to one server port, accepted.
struct Fleet {
    Net& net;
    std::unique_ptr<TcpListener> listener;
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    Fleet(Net& net_, std::uint16_t port) : net(net_), listener(net.server.engine.listen(port)) {}
    /// One more connection, established and accepted; its index.
    std::size_t open(std::uint16_t port) {
        clients.push_back(net.client.engine.connect({kServer, port}, {.nodelay = true}));
        std::unique_ptr<TcpConnection> accepted;
        REQUIRE(net.run_until([&] {
            if (!accepted) accepted = listener->accept();
            return accepted && clients.back()->state() == TcpState::established;
        }));
        servers.push_back(std::move(accepted));
        return clients.size() - 1;
    }
    ~Fleet() {
        net.client.filter->drop = nullptr;
        net.server.filter->drop = nullptr;
    }
};

/// The right edge (ACK + window) of every segment the server sent, per client port, must never
/// move left (RFC 9293 3.8.6.2.2, RFC 7323 2.4; window scale 0 with a 4 KiB buffer).
void check_no_retraction(const std::vector<Seen>& segments) {
    std::map<std::uint16_t, std::uint32_t> edges;
    for (const Seen& s : segments) {
        if (!s.has(wire::tcp_flag::ack) || s.has(wire::tcp_flag::rst)) continue;
        const std::uint32_t edge = s.ack + s.window;
        const auto [it, first] = edges.emplace(s.destination_port, edge);
        if (first) continue;
        INFO("port " << s.destination_port);
        CHECK(static_cast<std::int32_t>(edge - it->second) >= 0);
        if (static_cast<std::int32_t>(edge - it->second) > 0) it->second = edge;
    }
}

}  // namespace

TEMPLATE_TEST_CASE(
    "memory pressure: windows stay shut without retracting, out-of-order data and "
    "SYNs are refused, and a window update follows the relief",
    "[tcp_engines][memory_budget]", TCP_ENGINES) {
    Net net(TestType::name, "mem-pressure", kSmallBuffers);
    const auto sent_by_server = record(net.server);
    Fleet fleet(net, 9100);
    const std::size_t spare = fleet.open(9100);  // opened early: its whole window is on offer
    const TcpEngine& server = net.server.engine;
    // Stalled readers, one after the other, until the server is under pressure.
    const Bytes block = generated(4096, 3);
    while (counter_of(server, "memory_pressure_entered") == 0) {
        REQUIRE(fleet.clients.size() < 200);
        const std::size_t i = fleet.open(9100);
        REQUIRE(fleet.clients[i]->send(block) == block.size());
        REQUIRE(net.run_until([&] { return fleet.servers[i]->readable_bytes() == 4096; }));
        check_accounting(server, kLimit);
    }
    CHECK(front_half(server).memory_level() == tcp::MemoryLevel::pressure);  // not hard yet
    const std::size_t stalled = fleet.clients.size() - 1;

    SECTION("a read under pressure sends no window update; the relief does") {
        std::uint8_t buffer[4096];
        REQUIRE(fleet.servers[1]->recv(buffer) == 4096);
        net.run_for(50ms);
        CHECK(fleet.clients[1]->info().snd_wnd == 0);  // the edge stayed where it was
        // Every reader drains: the total falls below half the limit, the pressure ends, and
        // each peer hears of its open window without waiting for a persist probe (no virtual
        // time passes).
        for (std::size_t i = 2; i <= stalled; ++i) REQUIRE(fleet.servers[i]->recv(buffer) == 4096);
        CHECK(server.memory_in_use() < kLimit / 2);
        net.scheduler.run_until_idle();
        CHECK(front_half(server).memory_level() == tcp::MemoryLevel::normal);
        for (std::size_t i = 1; i <= stalled; ++i) {
            INFO("connection " << i);
            CHECK(fleet.clients[i]->info().snd_wnd > 0);
        }
        check_no_retraction(*sent_by_server);
    }

    SECTION("out-of-order data is dropped first, then arrives in order") {
        // The spare connection's first segment is lost: the next ones arrive out of order.
        bool lost = false;
        const std::uint16_t spare_port = fleet.clients[spare]->local().port;
        net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
            const auto s = parse_frame(frame);
            if (lost || !s || s->source_port != spare_port || s->payload.empty()) return false;
            return lost = true;
        };
        const Bytes data = generated(3000, 5);
        REQUIRE(fleet.clients[spare]->send(data) == data.size());
        REQUIRE(net.run_until([&] { return fleet.servers[spare]->readable_bytes() == 3000; }));
        CHECK(counter_of(server, "ooo_dropped_memory") >= 1);
        CHECK(counter_of(server, "rx_dropped_memory") == 0);  // in-order data still accepted
        Bytes received(3000);
        REQUIRE(fleet.servers[spare]->recv(received) == 3000);
        CHECK(received == data);
        check_no_retraction(*sent_by_server);
    }

    SECTION("a SYN is refused under pressure and accepted after it") {
        auto late = net.client.engine.connect({kServer, 9100});
        net.run_for(500ms);
        CHECK(late->state() == TcpState::syn_sent);
        CHECK(counter_of(server, "connections_refused_memory") >= 1);
        std::uint8_t buffer[4096];
        for (std::size_t i = 1; i <= stalled; ++i) REQUIRE(fleet.servers[i]->recv(buffer) == 4096);
        REQUIRE(net.run_until([&] { return late->state() == TcpState::established; }, 10s));
    }
    check_accounting(server, kLimit);
}

TEMPLATE_TEST_CASE(
    "memory hard limit: in-order data is dropped and counted, the budget holds, "
    "and everything arrives once the readers resume",
    "[tcp_engines][memory_budget]", TCP_ENGINES) {
    Net net(TestType::name, "mem-hard", kSmallBuffers);
    Fleet fleet(net, 9200);
    constexpr std::size_t kCount = 48;  // 48 full 4 KiB windows in 2 KiB buffers: past 256 KiB
    for (std::size_t i = 0; i < kCount; ++i) fleet.open(9200);
    std::vector<Bytes> data;
    const Bytes nothing;  // what the receivers send (a Pump keeps a reference)
    std::vector<Pump> senders, receivers;
    senders.reserve(kCount);
    receivers.reserve(kCount);
    for (std::size_t i = 0; i < kCount; ++i) data.push_back(generated(16384, 100 + i));
    for (std::size_t i = 0; i < kCount; ++i) {
        senders.push_back(Pump{*fleet.clients[i], data[i]});
        receivers.push_back(Pump{*fleet.servers[i], nothing});
        receivers.back().reading = false;
    }
    const auto step_all = [&] {
        for (std::size_t i = 0; i < kCount; ++i) {
            senders[i].step();
            receivers[i].step();
        }
    };
    net.run_until(
        [&] {
            step_all();
            return false;
        },
        3s);
    const TcpEngine& server = net.server.engine;
    CHECK(counter_of(server, "rx_dropped_memory") > 0);
    CHECK(counter_of(server, "memory_pressure_entered") >= 1);
    check_accounting(server, kLimit);
    for (auto& receiver : receivers) receiver.reading = true;
    REQUIRE(net.run_until(
        [&] {
            step_all();
            for (const auto& receiver : receivers)
                if (!receiver.connection.eof()) return false;
            return true;
        },
        120s));
    for (std::size_t i = 0; i < kCount; ++i) CHECK(receivers[i].received == data[i]);
    check_accounting(server, kLimit);
    CHECK(front_half(server).memory_level() == tcp::MemoryLevel::normal);
}

TEMPLATE_TEST_CASE("memory hard limit: app sends are refused and the writer waits for writable",
                   "[tcp_engines][memory_budget]", TCP_ENGINES) {
    // The client's send rings (64 KiB each) pass its limit; the server reads nothing at first.
    const std::uint64_t limit = tcp::min_memory_limit(4096, 65536);
    Net net(TestType::name, "mem-send", "{rcvbuf: 4KiB, backlog: 1024}",
            "{rcvbuf: 4KiB, sndbuf: 64KiB, memory_limit: " + std::to_string(limit) + "}");
    Fleet fleet(net, 9300);
    constexpr std::size_t kCount = 12;
    for (std::size_t i = 0; i < kCount; ++i) fleet.open(9300);
    const Bytes data = generated(64 * 1024, 21);
    std::vector<std::size_t> sent(kCount, 0);
    std::vector<int> writable_events(kCount, 0);
    const auto write = [&](std::size_t i) {
        while (sent[i] < data.size()) {
            const std::size_t n = fleet.clients[i]->send(std::span(data).subspan(sent[i]));
            if (n == 0) break;
            sent[i] += n;
        }
    };
    for (std::size_t i = 0; i < kCount; ++i) {
        fleet.clients[i]->on_event([&, i](std::uint32_t events) {
            if (events & kTcpWritable) {
                ++writable_events[i];
                write(i);
            }
        });
        write(i);
    }
    net.run_for(2s);
    const TcpEngine& client = net.client.engine;
    CHECK(counter_of(client, "sends_refused_memory") > 0);
    check_accounting(client, limit);
    std::size_t waiting = 0;
    for (std::size_t i = 0; i < kCount; ++i)
        if (sent[i] < data.size()) ++waiting;
    REQUIRE(waiting > 0);
    // A waiting writer is not woken while nothing changes (no busy loop).
    const std::vector<int> before = writable_events;
    net.run_for(2s);
    CHECK(writable_events == before);
    // The readers drain: send rings empty, the writers are woken and finish.
    std::vector<Bytes> received(kCount);
    REQUIRE(net.run_until(
        [&] {
            std::uint8_t buffer[16384];
            for (std::size_t i = 0; i < kCount; ++i)
                while (const std::size_t n = fleet.servers[i]->recv(buffer))
                    received[i].insert(received[i].end(), buffer, buffer + n);
            for (std::size_t i = 0; i < kCount; ++i)
                if (received[i].size() < data.size()) return false;
            return true;
        },
        120s));
    for (std::size_t i = 0; i < kCount; ++i) CHECK(received[i] == data);
    check_accounting(client, limit);
}
