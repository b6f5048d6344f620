// tcp_classic end to end: handshakes (active, passive, simultaneous), bulk transfer both ways
// with close and TIME-WAIT, RST for closed ports, SYN cookies, reset on close with unread data,
// zero-window persist, loss and reordering through `impair` with both congestion controllers,
// SYN give-up, idle memory, config errors.
#include <catch2/catch.hpp>
#include <sstream>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;

namespace {

/// Connects client -> server:port and accepts; both ends ESTABLISHED.
struct Established {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    Established(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
    }
};

/// Sends `up` and `down` at once, both sides half-close, until both saw EOF.
void exchange(Net& net, TcpConnection& client, TcpConnection& server, const Bytes& up,
              const Bytes& down, Time limit = 120s) {
    Pump c{client, up}, s{server, down};
    auto describe = [](const TcpConnection& conn) {
        const TcpInfo i = conn.info();
        std::ostringstream out;
        out << to_string(i.state) << " acked " << i.bytes_acked << " received " << i.bytes_received
            << " flight " << i.bytes_in_flight << " cwnd " << i.cwnd << " snd_wnd " << i.snd_wnd
            << " rcv_wnd " << i.rcv_wnd << " rto_us " << i.rto_us << " rtos " << i.rto_count
            << " rexmits " << i.retransmits;
        return out.str();
    };
    const bool done = net.run_until(
        [&] {
            c.step();
            s.step();
            return client.eof() && server.eof();
        },
        limit);
    if (!done) FAIL("client: " << describe(client) << "\nserver: " << describe(server));
    CHECK(s.received == up);
    CHECK(c.received == down);
}

}  // namespace

TEST_CASE("connect, accept, 1 MiB each way, graceful close and TIME-WAIT", "[tcp_classic]") {
    Net net("classic-bulk");
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

    exchange(net, *client, *server, generated(1 << 20, 1), generated(1 << 20, 2));
    // Both sides half-closed in exchange(): the FINs crossed, so both wait in TIME-WAIT.
    client->close();
    server->close();
    const Time closed_at = net.scheduler.now();
    REQUIRE(net.run_until([&] {
        return server->state() == TcpState::time_wait && client->state() == TcpState::time_wait;
    }));
    CHECK(client->error() == TcpError::none);
    CHECK(server->error() == TcpError::none);
    CHECK(counter_of(net.client.engine, "connections_current") == 1);
    // TIME-WAIT lasts 2 MSL (30 s by default), then the 4-tuple is free.
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }, 61s));
    CHECK(net.scheduler.now() - closed_at >= 60s);
    CHECK(counter_of(net.client.engine, "connections_current") == 0);
    CHECK(counter_of(net.server.engine, "connections_opened") == 1);
    CHECK(counter_of(net.client.engine, "connections_opened") == 1);
    CHECK(counter_of(net.server.engine, "rx_bad_checksum") == 0);
    CHECK(counter_of(net.client.engine, "retransmits") == 0);
}

TEST_CASE("options off: no scaling, no timestamps, no SACK, data still flows", "[tcp_classic]") {
    Net net("classic-noopts", "{window_scaling: false, timestamps: false, sack: false}");
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

TEST_CASE("a closed port refuses the connection with RST", "[tcp_classic]") {
    Net net("classic-refused");
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

TEST_CASE("simultaneous open: two SYNs cross and both ends get ESTABLISHED", "[tcp_classic]") {
    Net net("classic-simopen");
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

TEST_CASE("a full half-open set answers with SYN cookies, those connections work",
          "[tcp_classic][syn_cookies]") {
    Net net("classic-cookies", "{syn_backlog: 1}");
    auto listener = net.server.engine.listen(80, 0);
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    for (int i = 0; i < 4; ++i) clients.push_back(net.client.engine.connect({kServer, 80}));
    REQUIRE(net.run_until([&] {
        while (auto c = listener->accept()) servers.push_back(std::move(c));
        return servers.size() == clients.size();
    }));
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") >= 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") ==
          counter_of(net.server.engine, "syn_cookies_sent"));
    for (std::size_t i = 0; i < clients.size(); ++i) {
        TcpConnection* peer = nullptr;
        for (auto& s : servers)
            if (s->remote() == clients[i]->local()) peer = s.get();
        REQUIRE(peer != nullptr);
        exchange(net, *clients[i], *peer, generated(100000, 10 + static_cast<std::uint32_t>(i)),
                 generated(50000, 20 + static_cast<std::uint32_t>(i)));
    }
}

TEST_CASE("closing with unread data resets the peer (RFC 2525 2.17)", "[tcp_classic]") {
    Net net("classic-reset");
    Established e(net, 7000);
    const Bytes hello = generated(1000, 3);
    REQUIRE(e.client->send(hello) == hello.size());
    REQUIRE(net.run_until([&] { return e.server->readable_bytes() == hello.size(); }));
    std::uint32_t events = 0;
    e.client->on_event([&](std::uint32_t ev) { events |= ev; });
    e.server.reset();  // unread data: RST, not FIN
    REQUIRE(net.run_until([&] { return e.client->state() == TcpState::closed; }));
    net.scheduler.run_until_idle();
    CHECK(e.client->error() == TcpError::reset);
    CHECK((events & kTcpError) != 0);
}

TEST_CASE("destroying a listener resets the connections nobody accepted", "[tcp_classic]") {
    Net net("classic-listener-close");
    auto listener = net.server.engine.listen(7001, 0);
    auto client = net.client.engine.connect({kServer, 7001});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }));
    listener.reset();
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    CHECK(client->error() == TcpError::reset);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
}

TEST_CASE("a receiver that stops reading: zero window, persist, then everything arrives",
          "[tcp_classic][persist]") {
    Net net("classic-zero-window", "{rcvbuf: 4KiB}");
    Established e(net, 7002);
    const Bytes data = generated(64 * 1024, 9);
    Pump sender{*e.client, data};
    Pump receiver{*e.server, Bytes{}};
    receiver.reading = false;
    net.run_until(
        [&] {
            sender.step();
            return false;
        },
        5s);
    CHECK(e.server->readable_bytes() == 4096);  // the window closed at the buffer size
    CHECK(e.client->info().snd_wnd == 0);
    CHECK(e.client->info().bytes_acked == 4096);
    receiver.reading = true;
    REQUIRE(net.run_until([&] {
        sender.step();
        receiver.step();
        return e.server->eof();
    }));
    CHECK(receiver.received == data);
}

TEST_CASE("loss and reordering both ways: the bytes arrive intact, by retransmission",
          "[tcp_classic][loss]") {
    const std::string cc = GENERATE("newreno", "cubic");
    const double loss = GENERATE(0.01, 0.05, 0.10);
    drivers::ImpairParameters impair;
    impair.loss = loss;
    impair.reorder = 0.05;
    impair.delay = 2ms;
    const std::string yaml = "{cc: " + cc + "}";
    Net net("classic-loss-" + cc + std::to_string(loss), yaml, yaml, &impair, 42);
    CAPTURE(cc, loss);
    Established e(net, 7003);
    const Bytes up = generated(1 << 20, 11), down = generated(256 * 1024, 12);
    exchange(net, *e.client, *e.server, up, down, 600s);
    CHECK(counter_of(net.client.engine, "retransmits") +
              counter_of(net.server.engine, "retransmits") >
          0);
    WARN(cc << " " << loss << ": " << net.scheduler.now().count() / 1000000 << " ms, rto "
            << counter_of(net.client.engine, "rto_count") << " sack "
            << counter_of(net.client.engine, "sack_recoveries") << " rexmit "
            << counter_of(net.client.engine, "retransmits"));
    // SACK is negotiated by default: losses are repaired by RFC 6675 recovery.
    CHECK(counter_of(net.client.engine, "sack_recoveries") +
              counter_of(net.server.engine, "sack_recoveries") >
          0);
}

TEST_CASE("a SYN nobody answers is retransmitted, then the connect times out", "[tcp_classic]") {
    drivers::ImpairParameters black_hole;
    black_hole.loss = 1.0;
    Net net("classic-syn-timeout", "{}", "{syn_retransmits: 3, rto_initial: 100ms}", &black_hole);
    auto client = net.client.engine.connect({kServer, 80});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    CHECK(client->error() == TcpError::timed_out);
    CHECK(client->info().rto_count == 3);
    // Backoff: 100 + 200 + 400 + 800 ms before giving up.
    CHECK(net.scheduler.now() >= 1500ms);
}

TEST_CASE("idle connections: the engine accounts their memory", "[tcp_classic][memory]") {
    Net net("classic-memory");
    auto listener = net.server.engine.listen(9000, 0);
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    const std::size_t before = net.client.engine.memory_in_use();
    constexpr std::size_t kCount = 200;
    for (std::size_t i = 0; i < kCount; ++i)
        clients.push_back(net.client.engine.connect({kServer, 9000}));
    REQUIRE(net.run_until([&] {
        while (auto c = listener->accept()) servers.push_back(std::move(c));
        return servers.size() == kCount;
    }));
    net.run_until([] { return false; }, 1s);
    const std::size_t per_connection = (net.client.engine.memory_in_use() - before) / kCount;
    CHECK(counter_of(net.client.engine, "connections_current") == kCount);
    CHECK(counter_of(net.client.engine, "memory_bytes_current") ==
          net.client.engine.memory_in_use());
    WARN("client engine bytes per idle connection: " << per_connection);
    CHECK(per_connection > sizeof(classic::Pcb));
    CHECK(per_connection <= 1024);  // the bound for an idle connection
}

TEST_CASE("a server closing first waits in FIN-WAIT-2 / TIME-WAIT, the client in LAST-ACK",
          "[tcp_classic]") {
    Net net("classic-close-order");
    Established e(net, 7004);
    e.server->shutdown_write();  // a half-close: close() would refuse later data (RFC 2525 2.17)
    REQUIRE(net.run_until([&] { return e.client->eof(); }));
    CHECK(e.client->state() == TcpState::close_wait);
    CHECK(e.server->state() == TcpState::fin_wait_2);
    // Half-closed: the client can still send, the server still reads.
    const Bytes late = generated(3000, 8);
    REQUIRE(e.client->send(late) == late.size());
    e.client->close();
    REQUIRE(net.run_until([&] {
        return e.client->state() == TcpState::closed && e.server->state() == TcpState::time_wait;
    }));
    CHECK(e.client->error() == TcpError::none);
    Bytes got(2 * late.size());
    CHECK(e.server->recv(got) == late.size());
}

TEST_CASE("config: same keys as tcp_utcp, bad values are errors", "[tcp_classic][config]") {
    const auto config = classic::read_engine_config(Config::load_string(
        "{mss: 1400, cc: newreno, rcvbuf: 64KiB, msl: 1s, backlog: 3}", "t.yaml"));
    CHECK(config.mss == 1400);
    CHECK_FALSE(config.cubic);
    CHECK(config.rcvbuf == 65536);
    CHECK(config.msl == std::chrono::seconds(1));
    CHECK(config.backlog == 3);
    CHECK_THROWS_AS(classic::read_engine_config(Config::load_string("{cc: vegas}", "t.yaml")),
                    ConfigError);
    CHECK_THROWS_AS(classic::read_engine_config(Config::load_string("{rcvbuf: 10}", "t.yaml")),
                    ConfigError);
}

TEST_CASE("syn_cookies: always answers every SYN with a cookie, keeping no state",
          "[tcp_classic][syn_cookies]") {
    // Linux's tcp_syncookies=2 (RFC 4987 3.6): the first SYN already gets a cookie.
    Net net("classic-cookies-always", "{syn_cookies: always}");
    Established e(net, 80);
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") == 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") == 1);
    exchange(net, *e.client, *e.server, generated(20000, 3), generated(10000, 4));
}
