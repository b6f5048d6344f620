// tcp_classic does what tcp_utcp does, segment by segment: PAWS with the 24-day rule (RFC 7323
// 5.3, 5.5), NewReno recovery without SACK (RFC 6582), delayed ACKs for every second
// full-sized segment (RFC 5681 4.2) and quick ACKs after a gap was filled, Nagle (RFC 896),
// one challenge-ACK budget for the engine (RFC 5961 7), zero-window probes carrying a byte
// (RFC 9293 3.8.6.1). A RawTcpClient on the client node's IP layer plays the peer where the
// test needs exact segments.
#include <catch2/catch.hpp>

#include "harness.hpp"
#include "netloom/tcp_common/paws.hpp"
#include "tcp_raw_client.hpp"

using namespace netloom;
using namespace netloom::classic::test;
using netloom::testing::RawTcpClient;

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

struct Pair {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    Pair(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
    }
};

}  // namespace

TEST_CASE("PAWS drops an older TSval, but not once TS.Recent is 24 days old (RFC 7323 5.5)",
          "[tcp_classic][parity][paws]") {
    Net net("classic-parity-paws");
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

TEST_CASE("without SACK one lost segment is repaired by NewReno fast recovery, not the RTO",
          "[tcp_classic][parity][newreno]") {
    const std::string cc = GENERATE("newreno", "cubic");
    Net net("classic-parity-newreno", "{sack: false}", "{sack: false, cc: " + cc + "}");
    Pair p(net, 7202);
    int data_frames = 0;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        return t.is_tcp && t.payload > 0 && ++data_frames == 20;  // the 20th, once
    };
    const Bytes data = generated(300 * 1024, 3);
    Pump sender{*p.client, data};
    Pump receiver{*p.server, Bytes{}};
    REQUIRE(net.run_until([&] {
        sender.step();
        receiver.step();
        return p.server->eof();
    }));
    CHECK(receiver.received == data);
    CHECK(net.client.filter->dropped == 1);
    CHECK(counter_of(net.client.engine, "fast_retransmits") == 1);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 0);
    CHECK(p.client->info().rto_count == 0);
}

TEST_CASE("delayed ACK: every second full-sized segment at once, a lone one after the timer",
          "[tcp_classic][parity][delayed_ack]") {
    Net net("classic-parity-delack");
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

TEST_CASE("after a gap is filled the next segments are ACKed at once (quick ACK, RFC 5681 4.2)",
          "[tcp_classic][parity][delayed_ack]") {
    Net net("classic-parity-quickack");
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

TEST_CASE("Nagle: a small segment waits while another is unacknowledged, unless nodelay (RFC 896)",
          "[tcp_classic][parity][nagle]") {
    const bool nodelay = GENERATE(false, true);
    Net net("classic-parity-nagle", "{}", nodelay ? "{nodelay: true}" : "{}");
    Pair p(net, 7205);
    std::vector<Time> sent_at;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        if (parse_frame(frame).payload > 0) sent_at.push_back(net.scheduler.now());
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

TEST_CASE("challenge ACKs share one budget per engine, not per connection (RFC 5961 7)",
          "[tcp_classic][parity][rfc5961]") {
    Net net("classic-parity-challenge", "{challenge_ack_limit: 3}");
    auto listener = net.server.engine.listen(7206, 0);
    RawTcpClient peer(*net.client.layer);
    std::vector<std::unique_ptr<TcpConnection>> accepted;
    auto in_window_rsts = [&](std::uint16_t local_port, int count) {
        peer.open(kServer, 7206, local_port, false);
        net.scheduler.run_until_idle();
        accepted.push_back(listener->accept());
        REQUIRE(accepted.back());
        for (int i = 0; i < count; ++i) peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
        net.scheduler.run_until_idle();
    };
    in_window_rsts(40101, 2);
    CHECK(peer.pure_acks() == 2);
    in_window_rsts(40102, 5);  // a second connection finds one challenge ACK left
    CHECK(peer.pure_acks() == 3);
    CHECK(counter_of(net.server.engine, "challenge_acks") == 3);
    net.scheduler.advance(1s);
    peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
    net.scheduler.run_until_idle();
    CHECK(peer.pure_acks() == 4);  // a second later the budget is back
}

TEST_CASE("a zero window is probed with one byte of new data (RFC 9293 3.8.6.1)",
          "[tcp_classic][parity][persist]") {
    Net net("classic-parity-zwp", "{rcvbuf: 4KiB}");
    Pair p(net, 7207);
    const Bytes data = generated(16 * 1024, 9);
    Pump sender{*p.client, data};
    REQUIRE(net.run_until([&] {
        sender.step();
        const TcpInfo info = p.client->info();
        return info.snd_wnd == 0 && info.bytes_in_flight == 0;
    }));
    CHECK(p.client->info().bytes_acked == 4096);  // the window closed at the buffer size
    std::vector<FrameTcp> probes;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (t.is_tcp) probes.push_back(t);
        return false;
    };
    REQUIRE(net.run_until([&] { return !probes.empty(); }, 5s));
    CHECK(probes[0].payload == 1);
    // The byte is sent again with the rest once the receiver reads.
    Pump receiver{*p.server, Bytes{}};
    REQUIRE(net.run_until([&] {
        sender.step();
        receiver.step();
        return p.server->eof();
    }));
    CHECK(receiver.received == data);
}
