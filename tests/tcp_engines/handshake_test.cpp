// Opening connections, on both engines: the active/passive handshake with every option and
// with none, a bulk exchange and graceful close to TIME-WAIT, RST from a closed port,
// simultaneous open, SYN retransmission and give-up, Karn's rule for a retransmitted SYN and the
// 3 s RTO after a SYN timeout (RFC 6298 5.7).
#include <catch2/catch.hpp>
#include <optional>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE("connect, accept, 1 MiB each way, graceful close and TIME-WAIT",
                   "[tcp_engines][handshake]", TCP_ENGINES) {
    Net net(TestType::name, "bulk");
    auto listener = net.server.engine.listen(5001, 0);
    int acceptable_calls = 0;
    listener->on_acceptable([&] { ++acceptable_calls; });
    auto client = net.client.engine.connect({kServer, 5001});
    std::uint32_t client_events = 0;
    client->on_event([&](std::uint32_t e) { client_events |= e; });
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    CHECK(acceptable_calls >= 1);
    CHECK((client_events & kTcpConnected) != 0);
    CHECK(server->remote() == client->local());
    const TcpInfo info = client->info();
    CHECK(info.sack_enabled);
    CHECK(info.timestamps_enabled);
    CHECK(info.rcv_wscale > 0);
    CHECK(info.mss == 1460 - 12);  // timestamps take 12 bytes of each segment

    // kTcpClosed reports TIME-WAIT reached (tcp.hpp): when the 2 MSL start.
    std::optional<Time> time_wait_at;
    client->on_event([&](std::uint32_t e) {
        if ((e & kTcpClosed) && !time_wait_at) time_wait_at = net.scheduler.now();
    });
    exchange(net, *client, *server, generated(1 << 20, 1), generated(1 << 20, 2));
    // Both sides half-closed in exchange(): the FINs crossed, so both wait in TIME-WAIT.
    client->close();
    server->close();
    REQUIRE(net.run_until([&] {
        return server->state() == TcpState::time_wait && client->state() == TcpState::time_wait;
    }));
    CHECK(client->error() == TcpError::none);
    CHECK(server->error() == TcpError::none);
    CHECK(counter_of(net.client.engine, "connections_current") == 1);
    // TIME-WAIT lasts 2 MSL (30 s by default), then the 4-tuple is free.
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }, 61s));
    REQUIRE(time_wait_at);
    CHECK(net.scheduler.now() - *time_wait_at >= 60s);
    CHECK(counter_of(net.client.engine, "connections_current") == 0);
    CHECK(counter_of(net.server.engine, "connections_opened") == 1);
    CHECK(counter_of(net.client.engine, "connections_opened") == 1);
    CHECK(counter_of(net.server.engine, "rx_bad_checksum") == 0);
    CHECK(counter_of(net.client.engine, "retransmits") == 0);
}

TEMPLATE_TEST_CASE("options off: no scaling, no timestamps, no SACK, data still flows",
                   "[tcp_engines][handshake]", TCP_ENGINES) {
    Net net(TestType::name, "noopts", "{window_scaling: false, timestamps: false, sack: false}");
    Established e(net, 5002);
    const TcpInfo info = e.client->info();
    CHECK_FALSE(info.sack_enabled);
    CHECK_FALSE(info.timestamps_enabled);
    CHECK(info.rcv_wscale == 0);
    CHECK(info.snd_wscale == 0);
    CHECK(info.mss == 1460);
    exchange(net, *e.client, *e.server, generated(300000, 3), generated(200000, 4));
    // Karn-timed segments gave RTT samples: the RTO left its 1 s initial value for the 200 ms
    // floor (the virtual link has no delay).
    CHECK(e.client->info().rto_us == 200000);
}

TEMPLATE_TEST_CASE("a closed port refuses the connection with RST", "[tcp_engines][handshake]",
                   TCP_ENGINES) {
    Net net(TestType::name, "refused");
    auto client = net.client.engine.connect({kServer, 9});
    std::uint32_t events = 0;
    client->on_event([&](std::uint32_t e) { events |= e; });
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    net.scheduler.run_until_idle();
    CHECK(client->error() == TcpError::refused);
    CHECK((events & kTcpError) != 0);
    CHECK(counter_of(net.server.engine, "rx_no_connection") == 1);
    CHECK(counter_of(net.server.engine, "rst_sent") == 1);
    CHECK(counter_of(net.client.engine, "connections_current") == 0);
}

TEMPLATE_TEST_CASE("simultaneous open: two SYNs cross and both ends get ESTABLISHED",
                   "[tcp_engines][handshake]", TCP_ENGINES) {
    Net net(TestType::name, "simopen");
    TcpConnectOptions a, b;
    a.local_port = 4000;
    b.local_port = 4001;
    auto left = net.client.engine.connect({kServer, 4001}, a);
    auto right = net.server.engine.connect({kClient, 4000}, b);
    std::uint32_t left_events = 0, right_events = 0;
    left->on_event([&](std::uint32_t e) { left_events |= e; });
    right->on_event([&](std::uint32_t e) { right_events |= e; });
    REQUIRE(net.run_until([&] {
        return left->state() == TcpState::established && right->state() == TcpState::established;
    }));
    net.scheduler.run_until_idle();
    CHECK((left_events & kTcpConnected) != 0);
    CHECK((right_events & kTcpConnected) != 0);
    exchange(net, *left, *right, generated(50000, 5), generated(70000, 6));
    // Simultaneous close: both FINs cross (CLOSING), both reach TIME-WAIT.
    left->close();
    right->close();
    REQUIRE(net.run_until([&] {
        return left->state() == TcpState::time_wait && right->state() == TcpState::time_wait;
    }));
}

TEMPLATE_TEST_CASE("a SYN nobody answers is retransmitted, then the connect times out",
                   "[tcp_engines][handshake]", TCP_ENGINES) {
    drivers::ImpairParameters black_hole;
    black_hole.loss = 1.0;
    Net net(TestType::name, "syn-timeout", "{}", "{syn_retransmits: 3, rto_initial: 100ms}",
            &black_hole);
    auto client = net.client.engine.connect({kServer, 80});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    CHECK(client->error() == TcpError::timed_out);
    CHECK(client->info().rto_count == 3);
    // Backoff: 100 + 200 + 400 + 800 ms before giving up.
    CHECK(net.scheduler.now() >= 1500ms);
}

TEMPLATE_TEST_CASE("Karn: a retransmitted SYN is not timed", "[tcp_engines][handshake][karn]",
                   TCP_ENGINES) {
    Net net(TestType::name, "karn-syn", "{}", "{timestamps: false}");
    RawPeer deaf(net, net.server, kClient, 0);  // swallows the SYNs, answers nothing
    auto client = net.client.engine.connect({kServer, 7133});
    REQUIRE(net.run_until([&] { return deaf.segments.size() == 2; }, 5s));
    REQUIRE(deaf.segments[0].repr.flags == wire::tcp_flag::syn);
    REQUIRE(deaf.segments[1].repr.flags == wire::tcp_flag::syn);
    // The SYN-ACK arrives 1 ms after the retransmission: it may answer the first SYN, so the
    // 1 ms is no RTT measurement.
    net.scheduler.advance(1ms);
    auto syn_ack = segment_to(7133, client->local().port, wire::tcp_flag::syn | wire::tcp_flag::ack,
                              5000, deaf.segments.front().repr.sequence_number + 1);
    inject(net.server, kClient, syn_ack);
    net.scheduler.run_until_idle();
    REQUIRE(client->state() == TcpState::established);
    CHECK(client->info().srtt_us == 0);
}

TEMPLATE_TEST_CASE(
    "RFC 6298 5.7: after a SYN timeout without an RTT sample the RTO restarts from 3 s",
    "[tcp_engines][handshake][rto]", TCP_ENGINES) {
    // Without timestamps the retransmitted SYN's ACK cannot be timed (Karn).
    Net net(TestType::name, "rto-57", "{}", "{timestamps: false}");
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const auto s = parse_frame(frame);
        if (dropped || !s || !s->has(wire::tcp_flag::syn)) return false;
        return dropped = true;
    };
    auto listener = net.server.engine.listen(7105, 0);
    auto client = net.client.engine.connect({kServer, 7105});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }, 10s));
    CHECK(dropped);
    CHECK(client->info().rto_count == 1);
    CHECK(client->info().rto_us == 3'000'000);
}
