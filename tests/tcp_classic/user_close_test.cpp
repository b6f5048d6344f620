// tcp_classic after close() and at the edges of timing: new data after close() resets
// (RFC 2525 2.17), the persist timer gives up (unanswered probes, orphans), Karn's rule for a
// retransmitted SYN, which errors count as resets, RFC 6056 ephemeral ports.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;

namespace {

/// Stands in for a node's TCP engine: records the SYNs its IP layer delivers, answers nothing.
struct Deaf final : Transport {
    std::vector<std::uint32_t> syn_sequence_numbers;
    void ip_input(const IpMeta&, Packet&& packet) override {
        auto view = wire::TcpView::parse(packet.bytes());
        if (!view) return;
        auto repr = wire::TcpRepr::parse(*view);
        if (repr && repr->has(wire::tcp_flag::syn))
            syn_sequence_numbers.push_back(repr->sequence_number);
    }
    void ip_error(const IcmpErrorReport&) override {}
};

/// client -> server connection whose server never reads: the client ends with a zero window,
/// nothing in flight and data still queued (so the persist timer runs).
struct ZeroWindow {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    Bytes data = generated(64 * 1024, 11);
    ZeroWindow(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
        REQUIRE(client->send(data) > 0);
        REQUIRE(net.run_until([&] {
            const TcpInfo info = client->info();
            return info.snd_wnd == 0 && info.bytes_in_flight == 0;
        }));
    }
};

}  // namespace

TEST_CASE("new data after close() resets the connection (RFC 2525 2.17)", "[tcp_classic][close]") {
    Net net("classic-close-data");
    auto listener = net.server.engine.listen(7130, 0);
    auto client = net.client.engine.connect({kServer, 7130});
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    server->close();
    REQUIRE(net.run_until([&] { return client->eof(); }));
    const Bytes late = generated(1000, 12);
    REQUIRE(client->send(late) == late.size());
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }, 5s));
    CHECK(client->error() == TcpError::reset);
    CHECK(server->state() == TcpState::closed);
    CHECK(server->error() == TcpError::aborted);
    // Only the RST the client received is a reset; the server's local abort is not.
    CHECK(counter_of(net.client.engine, "connections_reset") == 1);
    CHECK(counter_of(net.server.engine, "connections_reset") == 0);
}

TEST_CASE("the persist timer gives up when the peer stops answering probes",
          "[tcp_classic][persist]") {
    Net net("classic-persist-silent", "{rcvbuf: 4KiB}", "{max_retransmits: 3, rto_max: 2s}");
    ZeroWindow z(net, 7131);
    Deaf deaf;
    net.server.layer->register_transport(IpProtocol::tcp, &deaf);
    const bool gave_up = net.run_until([&] { return z.client->state() == TcpState::closed; }, 120s);
    net.server.layer->register_transport(IpProtocol::tcp, &net.server.engine);
    REQUIRE(gave_up);
    CHECK(z.client->error() == TcpError::timed_out);
    CHECK(counter_of(net.client.engine, "connections_reset") == 0);  // a timeout is not a reset
}

TEST_CASE("an orphan gives up zero-window probing even while the peer answers",
          "[tcp_classic][persist]") {
    Net net("classic-persist-orphan", "{rcvbuf: 4KiB}", "{rto_max: 1s}");
    ZeroWindow z(net, 7132);
    // The peer keeps answering with a zero window: a connection with a reader would wait.
    REQUIRE_FALSE(net.run_until([&] { return z.client->state() != TcpState::established; }, 60s));
    z.client->close();
    REQUIRE(net.run_until([&] { return z.client->state() == TcpState::closed; }, 120s));
    CHECK(z.client->error() == TcpError::timed_out);
    CHECK(z.server->state() == TcpState::established);  // its peer just went away
}

TEST_CASE("Karn: a retransmitted SYN is not timed", "[tcp_classic][karn]") {
    Net net("classic-karn-syn", "{}", "{timestamps: false}");
    Deaf deaf;
    net.server.layer->register_transport(IpProtocol::tcp, &deaf);
    auto client = net.client.engine.connect({kServer, 7133});
    REQUIRE(net.run_until([&] { return deaf.syn_sequence_numbers.size() == 2; }, 5s));
    // The SYN-ACK arrives 1 ms after the retransmission: it may answer the first SYN, so the
    // 1 ms is no RTT measurement.
    net.scheduler.advance(1ms);
    auto syn_ack = segment_to(7133, client->local().port, wire::tcp_flag::syn | wire::tcp_flag::ack,
                              5000, deaf.syn_sequence_numbers.front() + 1);
    inject(net.server, kClient, syn_ack);
    net.scheduler.run_until_idle();
    REQUIRE(client->state() == TcpState::established);
    CHECK(client->info().srtt_us == 0);
    net.server.layer->register_transport(IpProtocol::tcp, &net.server.engine);
}

TEST_CASE("ephemeral ports: RFC 6056 algorithm 3 (keyed hash of the destination plus a counter)",
          "[tcp_classic][ports]") {
    Net net("classic-ports");
    auto port_to = [&](std::uint16_t remote_port) {
        auto connection = net.client.engine.connect({kServer, remote_port});
        return connection->local().port;
    };
    const std::uint32_t first = port_to(7140);
    std::vector<std::uint32_t> others{port_to(7141), port_to(7142), port_to(7143)};
    const std::uint32_t again = port_to(7140);
    // The default range, Linux's ip_local_port_range (tcp_common/engine_options.hpp).
    const std::uint32_t low = 32768, high = 60999, range = high - low + 1;
    auto after = [&](std::uint32_t port, std::uint32_t steps) {
        return low + (port - low + steps) % range;
    };
    // Same destination: the counter moved by one per connection in between.
    CHECK(again == after(first, 4));
    // Other destinations start elsewhere (a sequential allocator would give first+1..first+3;
    // all three hashes matching by chance has probability 2^-42).
    CHECK_FALSE((others[0] == after(first, 1) && others[1] == after(first, 2) &&
                 others[2] == after(first, 3)));
    for (auto port : others) CHECK((port >= low && port <= high));
}
