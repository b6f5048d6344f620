// tcp_classic robustness: listener callbacks closing other listeners mid-flush, segments to
// non-unicast destinations, config bounds, max_connections on every path that adds a
// connection, an accept queue bounded by the backlog, and TIME-WAIT (max_time_wait, RFC 6191
// reuse, a retransmitted FIN restarting 2 MSL).
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;

namespace {

classic::EngineConfig parse(const std::string& yaml) {
    return classic::read_engine_config(Config::load_string(yaml, "t.yaml"));
}

/// Stands in for a node's TCP engine: records the segments its IP layer delivers.
struct Sniffer final : Transport {
    std::vector<wire::TcpRepr> segments;
    std::vector<Bytes> storage;  // TcpRepr's payload views into these
    void ip_input(const IpMeta&, Packet&& packet) override {
        storage.emplace_back(packet.bytes().begin(), packet.bytes().end());
        auto view = wire::TcpView::parse(storage.back());
        if (!view) return;
        if (auto repr = wire::TcpRepr::parse(*view)) segments.push_back(*repr);
    }
    void ip_error(const IcmpErrorReport&) override {}
};

/// The server closes first and ends in TIME-WAIT; the client is CLOSED.
struct ServerInTimeWait {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    std::uint16_t client_port = 0;
    ServerInTimeWait(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
        client_port = client->local().port;
        server->close();
        REQUIRE(net.run_until([&] { return client->eof(); }));
        client->close();
        REQUIRE(net.run_until([&] {
            return client->state() == TcpState::closed && server->state() != TcpState::fin_wait_2 &&
                   server->state() != TcpState::fin_wait_1;
        }));
    }
};

}  // namespace

TEST_CASE("an accept callback destroying another listener does not call into it",
          "[tcp_classic][review]") {
    Net net("classic-review-flush");
    auto first = net.server.engine.listen(7101, 0);
    auto second = net.server.engine.listen(7102, 0);
    auto c1 = net.client.engine.connect({kServer, 7101});
    auto c2 = net.client.engine.connect({kServer, 7102});
    REQUIRE(net.run_until([&] {
        return c1->state() == TcpState::established && c2->state() == TcpState::established;
    }));
    // Both accept queues are non-empty: installing the callbacks queues both listeners for the
    // same flush, `first` ahead of `second`.
    int second_calls = 0;
    first->on_acceptable([&] { second.reset(); });
    second->on_acceptable([&] { ++second_calls; });
    net.scheduler.run_until_idle();
    CHECK(second == nullptr);
    CHECK(second_calls == 0);
    CHECK(first->accept() != nullptr);
}

TEST_CASE("segments to a broadcast address are dropped silently (RFC 1122 4.2.3.10)",
          "[tcp_classic][review]") {
    Net net("classic-review-broadcast");
    auto listener = net.server.engine.listen(7103, 0);
    inject(net.client, ip4("10.1.0.255"), segment_to(40001, 7103, wire::tcp_flag::syn, 1000));
    inject(net.client, ip4("10.1.0.255"), segment_to(40001, 7104, wire::tcp_flag::syn, 1000));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rx_not_unicast") == 2);
    CHECK(counter_of(net.server.engine, "rst_sent") == 0);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
    // The unicast address still works.
    inject(net.client, kServer, segment_to(40001, 7104, wire::tcp_flag::syn, 1000));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rst_sent") == 1);
}

TEST_CASE("config: the tcp_utcp timer keys and bounds (64-bit sizes and positive durations)",
          "[tcp_classic][review][config]") {
    const classic::EngineConfig e = parse(
        "{delayed_ack: false, delack_timeout: 100ms, fin_wait_2_timeout: 5s, keepalive: true, "
        "keepalive_idle: 30s, keepalive_interval: 2s, keepalive_count: 4, max_time_wait: 7}");
    CHECK_FALSE(e.delayed_ack);
    CHECK(e.delack_timeout == 100ms);
    CHECK(e.fin_wait_2_timeout == 5s);
    CHECK(e.keepalive);
    CHECK(e.keepalive_idle == 30s);
    CHECK(e.keepalive_interval == 2s);
    CHECK(e.keepalive_count == 4);
    CHECK(e.max_time_wait == 7);
    CHECK_THROWS_AS(parse("{delack_timeout: 600ms}"), ConfigError);  // RFC 1122 4.2.3.2
    CHECK_THROWS_AS(parse("{rcvbuf: 4194368KiB}"), ConfigError);     // 4 GiB + 64 KiB
    CHECK_THROWS_AS(parse("{sndbuf: 4194305KiB}"), ConfigError);
    CHECK_THROWS_AS(parse("{msl: 0s}"), ConfigError);
    CHECK_THROWS_AS(parse("{rto_min: 0s}"), ConfigError);
    CHECK_THROWS_AS(parse("{keepalive_interval: 0s}"), ConfigError);
    CHECK_THROWS_AS(parse("{keepalive_count: 0}"), ConfigError);
}

TEST_CASE("max_connections bounds connect()", "[tcp_classic][review]") {
    Net net("classic-review-maxconn-connect", "{}", "{max_connections: 1}");
    auto listener = net.server.engine.listen(7105, 0);
    auto first = net.client.engine.connect({kServer, 7105});
    CHECK_THROWS_AS(net.client.engine.connect({kServer, 7105}), std::runtime_error);
    CHECK(counter_of(net.client.engine, "connections_current") == 1);
}

TEST_CASE("max_connections bounds connections completed from a SYN cookie",
          "[tcp_classic][review]") {
    Net net("classic-review-maxconn-cookie", "{max_connections: 1}");
    auto listener = net.server.engine.listen(7106, 0);
    auto first = net.client.engine.connect({kServer, 7106});
    REQUIRE(net.run_until([&] { return first->state() == TcpState::established; }));
    // The table is full: the second SYN gets a cookie, and its ACK must not add a connection.
    auto second = net.client.engine.connect({kServer, 7106});
    REQUIRE(net.run_until([&] { return second->state() == TcpState::established; }));
    net.scheduler.advance(10ms);
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") >= 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") == 0);
    CHECK(counter_of(net.server.engine, "listen_drops") >= 1);
    CHECK(counter_of(net.server.engine, "connections_current") == 1);
}

TEST_CASE("the accept queue never exceeds the backlog", "[tcp_classic][review]") {
    Net net("classic-review-backlog");
    auto listener = net.server.engine.listen(7107, 1);
    // Both SYNs reach the listener while its queue is empty, so both become SYN-RECEIVED; the
    // second handshake's ACK finds the queue full and is dropped.
    auto c1 = net.client.engine.connect({kServer, 7107});
    auto c2 = net.client.engine.connect({kServer, 7107});
    REQUIRE(net.run_until([&] {
        return c1->state() == TcpState::established && c2->state() == TcpState::established;
    }));
    net.scheduler.advance(100ms);
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "listen_overflows") >= 1);
    auto a1 = listener->accept();
    CHECK(a1 != nullptr);
    CHECK(listener->accept() == nullptr);
    // With room again, the retransmitted SYN-ACK and the client's ACK complete the second one.
    std::unique_ptr<TcpConnection> a2;
    CHECK(net.run_until([&] { return (a2 = listener->accept()) != nullptr; }, 10s));
}

TEST_CASE("max_time_wait bounds TIME-WAIT: past it a connection closes at once",
          "[tcp_classic][review][time_wait]") {
    SECTION("room left: the server waits, counted in time_wait_current") {
        Net net("classic-review-tw-room", "{msl: 1s, max_time_wait: 1}");
        ServerInTimeWait tw(net, 7110);
        CHECK(tw.server->state() == TcpState::time_wait);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 1);
        CHECK(counter_of(net.server.engine, "time_wait_overflows") == 0);
        REQUIRE(net.run_until([&] { return tw.server->state() == TcpState::closed; }, 3s));
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
    }
    SECTION("no room: CLOSED without TIME-WAIT, counted as an overflow") {
        Net net("classic-review-tw-full", "{msl: 1s, max_time_wait: 0}");
        ServerInTimeWait tw(net, 7111);
        CHECK(tw.server->state() == TcpState::closed);
        CHECK(tw.server->error() == TcpError::none);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
        CHECK(counter_of(net.server.engine, "time_wait_overflows") == 1);
        CHECK(counter_of(net.server.engine, "connections_current") == 0);
    }
}

TEST_CASE("TIME-WAIT: only a newer SYN reuses the 4-tuple (RFC 6191) and a FIN restarts 2 MSL",
          "[tcp_classic][review][time_wait]") {
    Sniffer sniffer;
    Net net("classic-review-tw-reuse", "{msl: 1s, timestamps: false}", "{timestamps: false}");
    ServerInTimeWait tw(net, 7112);
    REQUIRE(tw.server->state() == TcpState::time_wait);
    net.client.layer->register_transport(IpProtocol::tcp, &sniffer);

    // An ACK acknowledging nothing we sent is answered with an ACK (RFC 5961 5.2), which tells
    // us the TIME-WAIT connection's RCV.NXT and SND.NXT.
    inject(net.client, kServer, segment_to(tw.client_port, 7112, wire::tcp_flag::ack, 12345, 0));
    net.scheduler.run_until_idle();
    REQUIRE(sniffer.segments.size() == 1);
    const std::uint32_t rcv_nxt = sniffer.segments.back().acknowledgment_number;
    const std::uint32_t snd_nxt = sniffer.segments.back().sequence_number;

    // SYNs at or before RCV.NXT are not provably new: answered by the old connection.
    for (const std::uint32_t seq : {rcv_nxt - 1000, rcv_nxt}) {
        inject(net.client, kServer, segment_to(tw.client_port, 7112, wire::tcp_flag::syn, seq));
        net.scheduler.run_until_idle();
        CHECK(sniffer.segments.back().flags == wire::tcp_flag::ack);
    }
    CHECK(counter_of(net.server.engine, "time_wait_reused") == 0);
    CHECK(tw.server->state() == TcpState::time_wait);

    SECTION("a retransmitted FIN is ACKed and restarts the 2 MSL timeout") {
        net.scheduler.advance(1500ms);
        net.scheduler.run_until_idle();
        REQUIRE(tw.server->state() == TcpState::time_wait);
        const std::size_t before = sniffer.segments.size();
        inject(net.client, kServer,
               segment_to(tw.client_port, 7112, wire::tcp_flag::fin | wire::tcp_flag::ack,
                          rcv_nxt - 1, snd_nxt));
        net.scheduler.run_until_idle();
        REQUIRE(sniffer.segments.size() == before + 1);
        CHECK(sniffer.segments.back().acknowledgment_number == rcv_nxt);
        // 2 MSL after the first FIN has passed; 2 MSL after the retransmission has not.
        net.scheduler.advance(1000ms);
        net.scheduler.run_until_idle();
        CHECK(tw.server->state() == TcpState::time_wait);
        net.scheduler.advance(1100ms);
        net.scheduler.run_until_idle();
        CHECK(tw.server->state() == TcpState::closed);
    }
    SECTION("a SYN past RCV.NXT opens a new incarnation; the old one is CLOSED") {
        inject(net.client, kServer,
               segment_to(tw.client_port, 7112, wire::tcp_flag::syn, rcv_nxt + 100000));
        net.scheduler.run_until_idle();
        CHECK(counter_of(net.server.engine, "time_wait_reused") == 1);
        CHECK(tw.server->state() == TcpState::closed);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
        REQUIRE_FALSE(sniffer.segments.empty());
        const wire::TcpRepr syn_ack = sniffer.segments.back();
        CHECK(syn_ack.flags == (wire::tcp_flag::syn | wire::tcp_flag::ack));
        CHECK(syn_ack.acknowledgment_number == rcv_nxt + 100001);
    }
}
