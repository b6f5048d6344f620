// tcp_classic against hand-made peers, for the rules the conformance scripts
// (tests/conformance/*.pkt) found broken: which segments carry PSH (RFC 9293 3.9.1, RFC 1122
// 4.2.2.2). A RawPeer takes the place of one node's engine: it records every segment the other
// node's engine sends and injects the segments a script would, so each test replays the
// exchange of its script in virtual time.
#include <catch2/catch.hpp>
#include <deque>
#include <optional>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;
using namespace wire::tcp_flag;

namespace {

/// Stands in for `node`'s TCP engine (restored on destruction): records what arrives, sends
/// hand-made segments from `port` to `remote`:`remote_port`.
struct RawPeer final : Transport {
    struct Received {
        wire::TcpRepr repr;
        Time at;
    };
    RawPeer(Net& net_, Node& node_, Ipv4Address remote_, std::uint16_t remote_port_)
        : net(net_), node(node_), remote(remote_), remote_port(remote_port_) {
        node.layer->register_transport(IpProtocol::tcp, this);
    }
    ~RawPeer() override { node.layer->register_transport(IpProtocol::tcp, &node.engine); }
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;

    void ip_input(const IpMeta&, Packet&& packet) override {
        storage.emplace_back(packet.bytes().begin(), packet.bytes().end());
        auto view = wire::TcpView::parse(storage.back());
        if (!view) return;
        if (auto repr = wire::TcpRepr::parse(*view))
            segments.push_back({*repr, net.scheduler.now()});
    }
    void ip_error(const IcmpErrorReport&) override {}

    /// Sends a segment carrying `payload` bytes; seq and ack are relative to the ISNs (ours is
    /// 0, the engine's is `iss`, taken from its SYN-ACK), as in a script.
    void send(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::size_t payload = 0,
              const wire::TcpOptions& options = {}) {
        auto repr = segment_to(port, remote_port, flags, seq,
                               (flags & wire::tcp_flag::ack) ? iss + ack : 0);
        repr.window = 65535;
        repr.options = options;
        const Bytes data(payload, 0x61);
        repr.payload = data;
        inject(node, remote, repr);
        net.scheduler.run_until_idle();
    }
    /// Runs the network until a segment more than `seen` arrived (false after `limit`).
    bool wait_for(std::size_t seen, Time limit = 10s) {
        return net.run_until([&] { return segments.size() > seen; }, limit);
    }
    std::uint32_t rel_seq(const Received& r) const { return r.repr.sequence_number - iss; }

    Net& net;
    Node& node;
    Ipv4Address remote;
    std::uint16_t remote_port;
    std::uint16_t port = 40000;
    std::uint32_t iss = 0;
    std::deque<Bytes> storage;  // TcpRepr payloads view into these
    std::vector<Received> segments;
};

/// The scripts' passive open: SYN <mss 1000[, sackOK]>, the engine's SYN-ACK, and `rtt` later
/// the ACK; returns the accepted connection.
std::unique_ptr<TcpConnection> passive_open(RawPeer& peer, TcpListener& listener, Time rtt,
                                            bool sack = false) {
    wire::TcpOptions options;
    options.mss = 1000;
    options.sack_permitted = sack;
    const std::size_t seen = peer.segments.size();
    peer.send(syn, 0, 0, 0, options);
    REQUIRE(peer.segments.size() == seen + 1);
    REQUIRE(peer.segments.back().repr.flags == (syn | ack));
    peer.iss = peer.segments.back().repr.sequence_number;
    peer.net.scheduler.advance(rtt);
    peer.send(ack, 1, 1);
    auto connection = listener.accept();
    REQUIRE(connection != nullptr);
    return connection;
}

/// The scripts' setup: a listener of the server's engine on `port`, a RawPeer on the client
/// node, and the connection passive_open() accepted from it.
struct Accepted {
    Accepted(const std::string& link, std::uint16_t port, Time rtt, bool sack = false,
             const std::string& server_yaml = "{}")
        : net(link, server_yaml),
          listener(net.server.engine.listen(port, 0)),
          peer(net, net.client, kServer, port),
          connection(passive_open(peer, *listener, rtt, sack)) {}
    Net net;
    std::unique_ptr<TcpListener> listener;
    RawPeer peer;
    std::unique_ptr<TcpConnection> connection;
};

/// An ACK of `ack` SACKing the relative ranges `blocks` (relative to the engine's ISN).
void sack(RawPeer& peer, std::uint32_t ack_rel,
          std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> blocks) {
    wire::TcpOptions options;
    for (const auto& [left, right] : blocks)
        options.sack_blocks[options.sack_count++] = {peer.iss + left, peer.iss + right};
    peer.send(ack, 1, ack_rel, 0, options);
}

}  // namespace

TEST_CASE("a retransmitted bare FIN carries no PSH (RFC 9293 3.9.1: PSH marks data)",
          "[tcp_classic][conformance]") {
    Accepted a("classic-conf-fin-psh", 7301, 100ms);
    Net& net = a.net;
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    SECTION("FIN-WAIT-1") {}
    SECTION("LAST-ACK") {
        peer.send(fin | ack, 1, 1);
        REQUIRE(connection->state() == TcpState::close_wait);
    }
    const std::size_t seen = peer.segments.size();
    connection->shutdown_write();
    // Never acknowledged: the FIN goes, then twice again after the RTO.
    REQUIRE(net.run_until([&] { return peer.segments.size() >= seen + 3; }, 30s));
    for (std::size_t i = seen; i < peer.segments.size(); ++i) {
        CHECK(peer.segments[i].repr.flags == (fin | ack));
        CHECK(peer.segments[i].repr.payload.empty());
    }
}

TEST_CASE(
    "new data sent during SACK recovery sets PSH on the last buffered segment (RFC 1122 4.2.2.2)",
    "[tcp_classic][conformance][sack]") {
    // sack-sender-new-data-in-recovery.pkt: segments 1 and 3 of ten are lost, cwnd = ssthresh
    // = 5 segments; new data written during recovery goes out as pipe falls (RFC 6675 5 (C)).
    Accepted a("classic-conf-sack-psh", 7302, 100ms, true, "{cc: newreno}");
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

TEST_CASE("a FIN beyond a gap draws an immediate duplicate ACK (RFC 9293 3.10.7.4, RFC 5681 4.2)",
          "[tcp_classic][conformance]") {
    // accept-fin-after-gap.pkt.
    Accepted a("classic-conf-fin-gap", 7303, 100ms);
    Net& net = a.net;
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    net.scheduler.advance(100ms);
    std::size_t seen = peer.segments.size();
    peer.send(fin | ack, 1001, 1);
    REQUIRE(peer.segments.size() == seen + 1);
    CHECK(peer.segments[seen].repr.flags == ack);
    CHECK(peer.segments[seen].repr.acknowledgment_number == 1);
    CHECK(connection->state() == TcpState::established);
    // The gap filled: the ACK covers the FIN.
    net.scheduler.advance(100ms);
    seen = peer.segments.size();
    peer.send(psh | ack, 1, 1, 1000);
    REQUIRE(peer.segments.size() == seen + 1);
    CHECK(peer.segments[seen].repr.acknowledgment_number == 1002);
    CHECK(connection->state() == TcpState::close_wait);
}

TEST_CASE("duplicates are D-SACKed at once, in one ACK only (RFC 2883 4)",
          "[tcp_classic][conformance][dsack]") {
    // sack-receiver-dsack-above-ack.pkt and sack-receiver-dsack-below-ack.pkt; without SACK
    // the same ACKs carry no blocks.
    const bool with_sack = GENERATE(true, false);
    Accepted a("classic-conf-dsack", 7305, 100ms, with_sack);
    RawPeer& peer = a.peer;
    using Block = wire::TcpSackBlock;
    // Sends a segment; returns the blocks of the one ACK it must draw at once.
    auto exchange = [&](std::uint32_t seq, std::uint32_t expect_ack) {
        const std::size_t seen = peer.segments.size();
        peer.send(psh | ack, seq, 1, 1000);
        REQUIRE(peer.segments.size() == seen + 1);
        const auto& repr = peer.segments[seen].repr;
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

TEST_CASE("Karn: the backed-off RTO stays until an RTT sample from an unretransmitted segment",
          "[tcp_classic][conformance][karn]") {
    // rto-karn-backoff-kept.pkt (RFC 6298 3 and 5): RTT 500 ms gives RTO 1.5 s.
    Accepted a("classic-conf-karn", 7304, 500ms);
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

TEST_CASE("ICMP port or protocol unreachable in SYN-SENT refuses the connection like a RST",
          "[tcp_classic][conformance][icmp]") {
    // icmp-port-unreachable-syn-sent-refused.pkt (RFC 1122 4.2.3.9: codes 2-4 are hard errors;
    // Linux reports ECONNREFUSED for port unreachable); icmp-host-unreachable-syn-sent-soft.pkt:
    // host unreachable (code 1) is soft, the connection keeps trying (nullopt: still open).
    const auto [code, expected] = GENERATE(table<std::uint8_t, std::optional<TcpError>>(
        {{2, TcpError::refused}, {3, TcpError::refused}, {1, std::nullopt}}));
    Net net("classic-conf-icmp-refused");
    RawPeer peer(net, net.server, kClient, 0);  // swallows the SYN
    auto connection = net.client.engine.connect({kServer, 7305});
    REQUIRE(peer.wait_for(0));
    REQUIRE(peer.segments[0].repr.flags == syn);
    IcmpErrorReport report;
    report.type = 3;
    report.code = code;
    report.reporter = kServer;
    report.source = connection->local().address;
    report.destination = kServer;
    report.protocol = IpProtocol::tcp;
    report.source_port = connection->local().port;
    report.destination_port = 7305;
    report.quoted_word = peer.segments[0].repr.sequence_number;  // the ISN, in flight
    net.client.engine.ip_error(report);
    net.scheduler.run_until_idle();
    if (expected) {
        CHECK(connection->state() == TcpState::closed);
        CHECK(connection->error() == *expected);
    } else {
        CHECK(connection->state() == TcpState::syn_sent);
        CHECK(connection->error() == TcpError::none);
    }
}
