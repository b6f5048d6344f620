// Moving data, on both engines, segment by segment: when ACKs go (delayed ACKs for every second
// full-sized segment and quick ACKs after a gap was filled, RFC 5681 4.2; an immediate
// duplicate ACK for a FIN beyond a gap; D-SACK, RFC 2883 4), when small segments wait (Nagle,
// RFC 896), and which segments PAWS drops (RFC 7323 5.3, 5.5). A RawTcpClient or a RawPeer in
// place of the client's engine plays the peer where the test needs exact segments.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/tcp_common/paws.hpp"
#include "tcp_raw_client.hpp"
#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace wire::tcp_flag;

namespace {

/// A connection from a RawTcpClient to a listener of the server's engine.
struct RawConnection {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> server;
    RawTcpClient peer;
    RawConnection(Net& net, std::uint16_t port, bool timestamps)
        : listener(net.server.engine.listen(port, 0)), peer(*net.client.layer) {
        peer.open(kServer, port, 40100, timestamps);
        net.scheduler.run_until_idle();
        server = listener->accept();
        REQUIRE(server);
        REQUIRE(server->state() == TcpState::established);
    }
    /// Sends `length` bytes and runs the network without moving the clock.
    void send(Net& net, std::uint32_t length) {
        peer.send_data(length);
        net.scheduler.run_until_idle();
    }
};

}  // namespace

TEMPLATE_TEST_CASE(
    "PAWS drops an older TSval, but not once TS.Recent is 24 days old (RFC 7323 5.5)",
    "[tcp_engines][data][paws]", TCP_ENGINES) {
    Net net(TestType::name, "paws");
    RawConnection c(net, 7201, true);
    c.send(net, 100);
    net.scheduler.advance(50ms);  // the delayed ACK: Last.ACK.sent covers the next segment
    net.scheduler.run_until_idle();
    c.peer.ts_val = 2000;
    c.send(net, 100);  // TS.Recent = 2000
    net.scheduler.advance(50ms);
    net.scheduler.run_until_idle();
    REQUIRE(c.server->readable_bytes() == 200);

    const std::size_t before = c.peer.received.size();
    c.peer.send_data(100, c.peer.snd_nxt, 1500);  // older than TS.Recent: a stale duplicate
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rx_paws") == 1);
    CHECK(c.server->readable_bytes() == 200);
    REQUIRE(c.peer.received.size() == before + 1);  // R1: ACK and drop
    CHECK(c.peer.received.back().ack == c.peer.snd_nxt);

    // Idle for more than 24 days: TS.Recent is no longer valid, the same TSval is accepted.
    net.scheduler.advance(tcp::kPawsIdleLimit + 1h);
    net.scheduler.run_until_idle();
    c.peer.send_data(100, std::nullopt, 1500);
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rx_paws") == 1);
    CHECK(c.server->readable_bytes() == 300);
}

TEMPLATE_TEST_CASE(
    "delayed ACK: every second full-sized segment at once, a lone one after the timer",
    "[tcp_engines][data][delayed_ack]", TCP_ENGINES) {
    Net net(TestType::name, "delack");
    RawConnection c(net, 7203, false);
    c.send(net, 1460);
    CHECK(c.peer.pure_acks() == 0);
    c.send(net, 1460);  // the second full-sized segment: ACKed at once (RFC 5681 4.2)
    REQUIRE(c.peer.pure_acks() == 1);
    CHECK(c.peer.received.back().ack == c.peer.snd_nxt);

    c.send(net, 1460);  // a lone segment waits for delack_timeout (40 ms)
    net.scheduler.advance(39ms);
    net.scheduler.run_until_idle();
    CHECK(c.peer.pure_acks() == 1);
    net.scheduler.advance(2ms);
    net.scheduler.run_until_idle();
    REQUIRE(c.peer.pure_acks() == 2);
    CHECK(c.peer.received.back().ack == c.peer.snd_nxt);

    // One full-sized and one small segment are not two full-sized ones: the timer ACKs them.
    c.send(net, 1460);
    c.send(net, 100);
    CHECK(c.peer.pure_acks() == 2);
    net.scheduler.advance(41ms);
    net.scheduler.run_until_idle();
    CHECK(c.peer.pure_acks() == 3);
}

TEMPLATE_TEST_CASE(
    "after a gap is filled the next segments are ACKed at once (quick ACK, RFC 5681 4.2)",
    "[tcp_engines][data][delayed_ack]", TCP_ENGINES) {
    Net net(TestType::name, "quickack");
    RawConnection c(net, 7204, false);
    const std::uint32_t gap = c.peer.snd_nxt;
    c.peer.send_data(1460, gap + 1460);  // out of order: a duplicate ACK at once
    net.scheduler.run_until_idle();
    CHECK(c.peer.pure_acks() == 1);
    c.peer.send_data(1460, gap);  // fills the gap: ACKed at once
    net.scheduler.run_until_idle();
    REQUIRE(c.peer.pure_acks() == 2);
    CHECK(c.peer.received.back().ack == gap + 2920);
    c.peer.snd_nxt = gap + 2920;
    for (int i = 0; i < 3; ++i) {
        c.send(net, 1460);  // each alone would wait for the delayed-ACK timer
        CHECK(c.peer.pure_acks() == 3u + i);
    }
}

TEMPLATE_TEST_CASE(
    "Nagle: a small segment waits while another is unacknowledged, unless nodelay (RFC 896)",
    "[tcp_engines][data][nagle]", TCP_ENGINES) {
    const bool nodelay = GENERATE(false, true);
    Net net(TestType::name, "nagle", "{}", nodelay ? "{nodelay: true}" : "{}");
    Established p(net, 7205);
    std::vector<Time> sent_at;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const auto s = parse_frame(frame);
        if (s && !s->payload.empty()) sent_at.push_back(net.scheduler.now());
        return false;
    };
    const Bytes small = generated(100, 5);
    REQUIRE(p.client->send(small) == 100);
    REQUIRE(p.client->send(small) == 100);
    REQUIRE(net.run_until([&] { return p.server->readable_bytes() == 200; }, 1s));
    REQUIRE(sent_at.size() == 2);
    if (nodelay) {
        CHECK(sent_at[1] == sent_at[0]);
    } else {
        // The second waits for the ACK of the first, which the peer delays (40 ms).
        CHECK(sent_at[1] - sent_at[0] >= 40ms);
    }
}

TEMPLATE_TEST_CASE(
    "a FIN beyond a gap draws an immediate duplicate ACK (RFC 9293 3.10.7.4, RFC 5681 4.2)",
    "[tcp_engines][data]", TCP_ENGINES) {
    // accept-fin-after-gap.pkt.
    Accepted a(TestType::name, "fin-gap", 7303, 100ms);
    RawPeer& peer = a.peer;
    a.net.scheduler.advance(100ms);
    std::size_t seen = peer.segments.size();
    peer.send(fin | ack, 1001, 1);
    const wire::TcpRepr& dup_ack = peer.expect_next(seen);
    CHECK(dup_ack.flags == ack);
    CHECK(dup_ack.acknowledgment_number == 1);
    CHECK(a.connection->state() == TcpState::established);
    // The gap filled: the ACK covers the FIN.
    a.net.scheduler.advance(100ms);
    seen = peer.segments.size();
    peer.send(psh | ack, 1, 1, 1000);
    CHECK(peer.expect_next(seen).acknowledgment_number == 1002);
    CHECK(a.connection->state() == TcpState::close_wait);
}

TEMPLATE_TEST_CASE("duplicates are D-SACKed at once, in one ACK only (RFC 2883 4)",
                   "[tcp_engines][data][dsack]", TCP_ENGINES) {
    // sack-receiver-dsack-above-ack.pkt and sack-receiver-dsack-below-ack.pkt; without SACK
    // the same ACKs carry no blocks.
    const bool with_sack = GENERATE(true, false);
    Accepted a(TestType::name, "dsack", 7305, 100ms, with_sack);
    RawPeer& peer = a.peer;
    using Block = wire::TcpSackBlock;
    // Sends a segment; returns the blocks of the one ACK it must draw at once.
    auto exchange = [&](std::uint32_t seq, std::uint32_t expect_ack) {
        const std::size_t seen = peer.segments.size();
        peer.send(psh | ack, seq, 1, 1000);
        const wire::TcpRepr& repr = peer.expect_next(seen);
        CHECK(repr.acknowledgment_number == expect_ack);
        return std::vector<Block>(repr.options.sack_blocks.begin(),
                                  repr.options.sack_blocks.begin() + repr.options.sack_count);
    };
    auto expect = [&](std::vector<Block> blocks) {
        return with_sack ? blocks : std::vector<Block>{};
    };
    CHECK(exchange(1001, 1) == expect({{1001, 2001}}));
    CHECK(exchange(2001, 1) == expect({{1001, 3001}}));
    // Above the cumulative ACK (4.1.2): the duplicate, then the block that holds it (rule 4).
    CHECK(exchange(2001, 1) == expect({{2001, 3001}, {1001, 3001}}));
    CHECK(exchange(1, 3001) == expect({}));  // the hole filled; nothing repeated (rule 2)
    // Below it (4.1.1).
    CHECK(exchange(1, 3001) == expect({{1, 1001}}));
}
