// The memory budget at scale, on both engines (issue 15 item 5): 10,000 connections whose
// readers stop while their peers keep sending. Both engines hold their budget (the peak counter
// stays within memory_limit, on the receiving and the sending side), and once the readers resume
// every connection finishes with the sha256 of what was sent. Event-driven (readable / writable
// callbacks, no polling), in virtual time on the engine harness, so it is deterministic.
#include <catch2/catch.hpp>

#include "netloom/tcp_common/front_half.hpp"
#include "sanitizers.hpp"
#include "sha256.hpp"
#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

// The -O0 ASan+UBSan tree runs a fifth of them (its CI budget), with the limits scaled alike.
constexpr std::size_t kConnections = NETLOOM_ASAN ? 2'000 : 10'000;
constexpr std::size_t kBytesEach = 6 * 1024;  // more than the 4 KiB window: it must reopen
// Both limits leave the connections' own objects (~1 KiB each, plus the budget's 512-byte
// allowance) below the pressure threshold and are far below what the stalled data would take
// without a budget (~7 KiB per connection on each side).
// 24 MiB for 10,000 connections.
constexpr std::uint64_t kServerLimit = kConnections * (std::uint64_t{24} << 20) / 10'000;
constexpr std::uint64_t kClientLimit = kServerLimit;

/// One client -> server stream, driven by its connections' events.
struct Stream {
    std::unique_ptr<TcpConnection> client, server;
    std::span<const std::uint8_t> data;  ///< what the client sends
    std::size_t sent = 0;
    bool shut = false;
    apps::Sha256 hash;
    std::size_t received = 0;
    bool done = false;

    void write() {
        while (sent < data.size()) {
            const std::size_t n = client->send(data.subspan(sent));
            if (n == 0) return;  // wait for writable
            sent += n;
        }
        if (!shut) {
            client->shutdown_write();
            shut = true;
        }
    }
    /// Reads what is there; true when this read reached the end of the stream.
    bool read() {
        std::uint8_t buffer[4096];
        while (const std::size_t n = server->recv(buffer)) {
            hash.update(std::span(buffer, n));
            received += n;
        }
        if (done || !server->eof()) return false;
        server->close();
        return done = true;
    }
};

}  // namespace

TEMPLATE_TEST_CASE(
    "memory budget: 10,000 stalled readers (2,000 under ASan), the budget holds, all finish",
    "[tcp_engines][memory_budget][10k]", TCP_ENGINES) {
    Net net(TestType::name, "mem-10k",
            "{rcvbuf: 4KiB, sndbuf: 4KiB, backlog: 16384, syn_backlog: 16384, memory_limit: " +
                std::to_string(kServerLimit) + "}",
            "{rcvbuf: 4KiB, sndbuf: 4KiB, memory_limit: " + std::to_string(kClientLimit) + "}");
    const TcpEngine& client_engine = net.client.engine;
    const TcpEngine& server_engine = net.server.engine;
    // Distinct data per connection (a rotation of one pattern), so a mix-up shows.
    const Bytes pattern = generated(kBytesEach + 256, 77);
    std::vector<Stream> streams(kConnections);
    auto listener = net.server.engine.listen(9400);
    for (std::size_t i = 0; i < kConnections; ++i) {
        streams[i].client = net.client.engine.connect({kServer, 9400});
        streams[i].data = std::span(pattern).subspan(i % 256, kBytesEach);
    }
    std::size_t accepted = 0;
    REQUIRE(net.run_until([&] {
        while (auto connection = listener->accept())
            streams[accepted++].server = std::move(connection);
        return accepted == kConnections;
    }));
    // Accept order is not connect order: pair each server end with its client by port.
    std::unordered_map<std::uint16_t, std::size_t> by_port;
    for (std::size_t i = 0; i < kConnections; ++i) by_port[streams[i].client->local().port] = i;
    std::vector<std::unique_ptr<TcpConnection>> servers(kConnections);
    for (auto& stream : streams)
        servers[by_port.at(stream.server->remote().port)] = std::move(stream.server);
    for (std::size_t i = 0; i < kConnections; ++i) streams[i].server = std::move(servers[i]);

    bool reading = false;
    std::size_t finished = 0;
    for (auto& stream : streams) {
        stream.client->on_event([&stream](std::uint32_t events) {
            if (events & kTcpWritable) stream.write();
        });
        stream.server->on_event([&stream, &reading, &finished](std::uint32_t events) {
            if ((events & kTcpReadable) && reading && stream.read()) ++finished;
        });
        stream.write();
    }
    // The readers are stopped: the senders keep going until windows and budgets stop them.
    net.run_for(10s);
    INFO("server: peak " << counter_of(server_engine, "memory_bytes_peak") << ", pressure "
                         << counter_of(server_engine, "memory_pressure_entered") << ", rx drops "
                         << counter_of(server_engine, "rx_dropped_memory") << ", ooo drops "
                         << counter_of(server_engine, "ooo_dropped_memory") << "; client: peak "
                         << counter_of(client_engine, "memory_bytes_peak") << ", sends refused "
                         << counter_of(client_engine, "sends_refused_memory"));
    CHECK(counter_of(server_engine, "memory_pressure_entered") >= 1);
    CHECK(counter_of(server_engine, "memory_bytes_peak") <= kServerLimit);
    CHECK(counter_of(client_engine, "memory_bytes_peak") <= kClientLimit);
    CHECK(finished == 0);

    // The readers resume (each drains what it holds; callbacks take it from there).
    reading = true;
    for (auto& stream : streams)
        if (stream.read()) ++finished;
    const bool all_finished = net.run_until([&] { return finished == kConnections; }, 600s);
    if (!all_finished) {
        std::size_t shown = 0;
        for (auto& st : streams) {
            if (st.done || shown++ > 5) continue;
            const TcpInfo c = st.client->info(), sv = st.server->info();
            WARN("stuck: sent " << st.sent << " shut " << st.shut << " received " << st.received
                                << " client state " << int(c.state) << " snd_wnd " << c.snd_wnd
                                << " inflight " << c.bytes_in_flight << " acked " << c.bytes_acked
                                << " send_space " << st.client->send_space() << "; server state "
                                << int(sv.state) << " rcv_wnd " << sv.rcv_wnd << " readable "
                                << st.server->readable_bytes());
        }
        WARN("finished " << finished << " server mem " << server_engine.memory_in_use()
                         << " client mem " << client_engine.memory_in_use());
    }
    REQUIRE(all_finished);
    const apps::Sha256::Digest expected_first = apps::Sha256::of(streams[0].data);
    std::size_t mismatched = 0;
    for (std::size_t i = 0; i < kConnections; ++i) {
        const auto expected = i % 256 == 0 ? expected_first : apps::Sha256::of(streams[i].data);
        if (streams[i].received != kBytesEach || streams[i].hash.final() != expected) ++mismatched;
    }
    CHECK(mismatched == 0);
    CHECK(counter_of(server_engine, "memory_bytes_peak") <= kServerLimit);
    CHECK(counter_of(client_engine, "memory_bytes_peak") <= kClientLimit);
    CHECK(server_engine.memory_in_use() ==
          dynamic_cast<const tcp::FrontHalf&>(server_engine).memory_walked());
    CHECK(client_engine.memory_in_use() ==
          dynamic_cast<const tcp::FrontHalf&>(client_engine).memory_walked());
}
