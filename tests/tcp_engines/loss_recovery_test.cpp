// Loss recovery, on both engines: random loss and reordering both ways with both congestion
// controllers, NewReno fast recovery without SACK (RFC 6582), SACK recovery (RFC 6675: ssthresh
// from FlightSize, new data during recovery), RACK-style loss detection (RFC 8985: the
// reordering window, a lost retransmission probed instead of waiting for the RTO) and Karn's
// rule keeping a backed-off RTO (RFC 6298 5). Frames are lost on purpose through the client's
// FilterDevice, or a RawPeer plays a script's peer; time is virtual.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace wire::tcp_flag;

namespace {

/// True for a frame carrying TCP payload.
bool carries_data(std::span<const std::uint8_t> frame) {
    const auto s = parse_frame(frame);
    return s && !s->payload.empty();
}

/// An ACK of `ack_rel` SACKing the ranges `blocks` (relative to the engine's ISN).
void sack(RawPeer& peer, std::uint32_t ack_rel,
          std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> blocks) {
    wire::TcpOptions options;
    for (const auto& [left, right] : blocks)
        options.sack_blocks[options.sack_count++] = {peer.iss + left, peer.iss + right};
    peer.send(ack, 1, ack_rel, 0, options);
}

}  // namespace

TEMPLATE_TEST_CASE("loss and reordering both ways: the bytes arrive intact, by retransmission",
                   "[tcp_engines][loss]", TCP_ENGINES) {
    const std::string cc = GENERATE("newreno", "cubic");
    const double loss = GENERATE(0.01, 0.05, 0.10);
    drivers::ImpairParameters impair;
    impair.loss = loss;
    impair.reorder = 0.05;
    impair.delay = 2ms;
    const std::string yaml = "{cc: " + cc + "}";
    Net net(TestType::name, "loss-" + cc + std::to_string(loss), yaml, yaml, &impair, 42);
    CAPTURE(cc, loss);
    Established e(net, 7003);
    const Bytes up = generated(1 << 20, 11), down = generated(256 * 1024, 12);
    exchange(net, *e.client, *e.server, up, down, 600s);
    CHECK(counter_of(net.client.engine, "retransmits") +
              counter_of(net.server.engine, "retransmits") >
          0);
    // SACK is negotiated by default: losses are repaired by RFC 6675 recovery.
    CHECK(counter_of(net.client.engine, "sack_recoveries") +
              counter_of(net.server.engine, "sack_recoveries") >
          0);
}

TEMPLATE_TEST_CASE(
    "without SACK one lost segment is repaired by NewReno fast recovery, not the RTO",
    "[tcp_engines][loss][newreno]", TCP_ENGINES) {
    const std::string cc = GENERATE("newreno", "cubic");
    Net net(TestType::name, "newreno", "{sack: false}", "{sack: false, cc: " + cc + "}");
    Established p(net, 7202);
    int data_frames = 0;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        return carries_data(frame) && ++data_frames == 20;  // the 20th, once
    };
    const Bytes data = generated(300 * 1024, 3);
    Pump sender{*p.client, data};
    Pump receiver{*p.server, Bytes{}};
    REQUIRE(pump_until_eof(net, sender, receiver));
    CHECK(receiver.received == data);
    CHECK(net.client.filter->dropped == 1);
    CHECK(counter_of(net.client.engine, "fast_retransmits") == 1);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 0);
    CHECK(p.client->info().rto_count == 0);
}

TEMPLATE_TEST_CASE("SACK recovery takes ssthresh from FlightSize, not from pipe (RFC 6675 4.2)",
                   "[tcp_engines][loss][sack]", TCP_ENGINES) {
    Net net(TestType::name, "sack-ssthresh", "{}", "{cc: newreno}");
    Established p(net, 7106);
    // Ten segments in flight, the first lost once: three SACKs start recovery while pipe
    // (flight minus SACKed minus lost) is six segments.
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        if (dropped || !carries_data(frame)) return false;
        return dropped = true;
    };
    const std::uint32_t mss = p.client->info().mss;
    const Bytes data = generated(10 * mss, 6);
    Bytes received;
    REQUIRE(deliver(net, p, data, received, 2s));
    CHECK(received == data);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 1);
    // RFC 5681 (4): max(FlightSize / 2, 2 SMSS), FlightSize = 10 segments.
    CHECK(p.client->info().ssthresh == 5 * mss);
}

TEMPLATE_TEST_CASE(
    "new data sent during SACK recovery sets PSH on the last buffered segment (RFC 1122 4.2.2.2)",
    "[tcp_engines][loss][sack]", TCP_ENGINES) {
    // sack-sender-new-data-in-recovery.pkt: segments 1 and 3 of ten are lost, cwnd = ssthresh
    // = 5 segments; new data written during recovery goes out as pipe falls (RFC 6675 5 (C)).
    Accepted a(TestType::name, "sack-psh", 7302, 100ms, true, "{cc: newreno}");
    Net& net = a.net;
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    const Bytes chunk = generated(2000, 1);
    for (int i = 0; i < 5; ++i) REQUIRE(connection->send(chunk) == chunk.size());
    net.scheduler.run_until_idle();
    net.scheduler.advance(100ms);
    sack(peer, 1, {{1001, 2001}});
    sack(peer, 1, {{3001, 4001}, {1001, 2001}});
    sack(peer, 1, {{3001, 5001}, {1001, 2001}});
    net.scheduler.advance(10ms);
    sack(peer, 1, {{3001, 6001}, {1001, 2001}});
    net.scheduler.advance(10ms);
    sack(peer, 1, {{3001, 7001}, {1001, 2001}});
    REQUIRE(connection->send(chunk) == chunk.size());
    net.scheduler.run_until_idle();
    const std::size_t seen = peer.segments.size();
    net.scheduler.advance(10ms);
    sack(peer, 1, {{3001, 8001}, {1001, 2001}});
    net.scheduler.advance(10ms);
    sack(peer, 1, {{3001, 9001}, {1001, 2001}});
    REQUIRE(peer.segments.size() == seen + 2);
    CHECK(peer.rel_seq(peer.segments[seen]) == 10001);
    CHECK(peer.segments[seen].repr.flags == ack);
    CHECK(peer.rel_seq(peer.segments[seen + 1]) == 11001);
    CHECK(peer.segments[seen + 1].repr.flags == (psh | ack));  // the end of what was written
    CHECK(connection->info().sack_recoveries == 1);
}

TEMPLATE_TEST_CASE(
    "RACK: a lost segment too early for three duplicates is resent after the reordering "
    "window, not after a probe and the RTO",
    "[tcp_engines][loss][rack]", TCP_ENGINES) {
    Net net(TestType::name, "rack-window");
    Established p(net, 7101);
    // Two segments; the first is lost once. One SACK comes back: no third duplicate, nothing
    // left to send for limited transmit.
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        if (dropped || !carries_data(frame)) return false;
        return dropped = true;
    };
    const Bytes data = generated(2 * p.client->info().mss, 1);
    Bytes received;
    const Time start = net.scheduler.now();
    REQUIRE(deliver(net, p, data, received, 2s));
    CHECK(dropped);
    CHECK(received == data);
    // The reordering window is 1 ms here (sub-millisecond RTT); a tail loss probe would come
    // after 10 ms at the earliest and the RTO after 200 ms.
    CHECK(net.scheduler.now() - start < 10ms);
    CHECK(p.client->info().rto_count == 0);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 1);
}

TEMPLATE_TEST_CASE(
    "RACK: a lost retransmission with nothing sent after it is probed, not left to the RTO",
    "[tcp_engines][loss][rack]", TCP_ENGINES) {
    Net net(TestType::name, "rack-lost-rexmit");
    Established p(net, 7102);
    // Ten segments (the initial window, so nothing new follows the recovery); the first one
    // and its first retransmission are lost.
    std::optional<std::uint32_t> first_seq;
    int drops = 0;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const auto s = parse_frame(frame);
        if (!s || s->payload.empty()) return false;
        if (!first_seq) first_seq = s->seq;
        if (s->seq != *first_seq || drops == 2) return false;
        ++drops;
        return true;
    };
    const Bytes data = generated(10 * p.client->info().mss, 2);
    Bytes received;
    const Time start = net.scheduler.now();
    REQUIRE(deliver(net, p, data, received, 5s));
    CHECK(drops == 2);
    CHECK(received == data);
    CHECK(p.client->info().rto_count == 0);
    CHECK(net.scheduler.now() - start < 200ms);  // the minimum RTO
}

TEMPLATE_TEST_CASE(
    "Karn: the backed-off RTO stays until an RTT sample from an unretransmitted segment",
    "[tcp_engines][loss][karn]", TCP_ENGINES) {
    // rto-karn-backoff-kept.pkt (RFC 6298 3 and 5): RTT 500 ms gives RTO 1.5 s.
    Accepted a(TestType::name, "karn", 7304, 500ms);
    Net& net = a.net;
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    const Bytes chunk = generated(100, 2);
    // Sends `chunk`, lets it be lost once; returns the time until its retransmission.
    auto lost_once = [&] {
        const std::size_t seen = peer.segments.size();
        REQUIRE(connection->send(chunk) == chunk.size());
        REQUIRE(peer.wait_for(seen));
        REQUIRE(peer.wait_for(seen + 1));
        const auto& first = peer.segments[seen];
        const auto& again = peer.segments[seen + 1];
        CHECK(again.repr.sequence_number == first.repr.sequence_number);
        return again.at - first.at;
    };
    CHECK(lost_once() == 1500ms);
    // The ACK of the retransmission gives no sample (it may answer the first copy).
    net.scheduler.advance(100ms);
    peer.send(ack, 1, 101);
    CHECK(connection->info().rto_us == 3'000'000);
    CHECK(lost_once() == 3000ms);
    // A sample from a segment sent once collapses the RTO (RFC 6298 5, after 5.7).
    net.scheduler.advance(100ms);
    peer.send(ack, 1, 201);
    const std::size_t seen = peer.segments.size();
    REQUIRE(connection->send(chunk) == chunk.size());
    REQUIRE(peer.wait_for(seen));
    net.scheduler.advance(500ms);
    peer.send(ack, 1, 301);
    CHECK(connection->info().rto_us < 3'000'000);
}

TEMPLATE_TEST_CASE(
    "with SACK, repeated ACKs that SACK nothing new are no duplicates and start no recovery "
    "(RFC 6675 2 DupAck)",
    "[tcp_engines][loss][sack]", TCP_ENGINES) {
    Accepted a(TestType::name, "sack-dupack", 7303, 100ms, true, "{cc: newreno}");
    Net& net = a.net;
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    const Bytes chunk = generated(1000, 2);
    for (int i = 0; i < 5; ++i) REQUIRE(connection->send(chunk) == chunk.size());
    net.scheduler.run_until_idle();
    net.scheduler.advance(100ms);
    // The second segment arrived first and its ACK reaches us three times (the network
    // duplicated it, or the receiver repeated it for duplicated data): one DupAck, not three.
    for (int i = 0; i < 3; ++i) sack(peer, 1, {{1001, 2001}});
    net.scheduler.run_until_idle();
    CHECK(connection->info().sack_recoveries == 0);
    CHECK(connection->info().fast_retransmits == 0);
}
