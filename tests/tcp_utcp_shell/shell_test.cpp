// The tcp_utcp engine end to end inside one process: two ipv4 layers on a `wire` link, a
// ManualScheduler, and the engine's user API as apps use it (connect, listen/accept, send/recv,
// events, close, abort), plus listener bounds and SYN cookies.
#include "shell_fixture.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

TEST_CASE("connect, accept, 1 MiB each way, graceful close", "[tcp_utcp][shell]") {
    Net net("utcp-shell-bulk");
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
    CHECK(client->info().sack_enabled);
    CHECK(client->info().timestamps_enabled);

    const Bytes up = generated(1 << 20, 1), down = generated(1 << 20, 2);
    Pump c{*client, up}, s{*server, down};
    REQUIRE(net.run_until([&] {
        c.step();
        s.step();
        return client->eof() && server->eof();
    }));
    CHECK(s.received == up);
    CHECK(c.received == down);
    client->close();
    server->close();
    REQUIRE(net.run_until([&] {
        return server->state() == TcpState::closed &&
               (client->state() == TcpState::time_wait || client->state() == TcpState::closed);
    }));
    CHECK(client->error() == TcpError::none);
    CHECK(server->error() == TcpError::none);
    CHECK(counter_of(net.server.engine, "connections_opened") == 1);
    CHECK(counter_of(net.client.engine, "connections_opened") == 1);
    CHECK(counter_of(net.server.engine, "rx_bad_checksum") == 0);
}

TEST_CASE("a closed port refuses the connection with RST", "[tcp_utcp][shell]") {
    Net net("utcp-shell-refused");
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

TEST_CASE("a full half-open set answers with SYN cookies, those connections work",
          "[tcp_utcp][shell][syn_cookies]") {
    Net net("utcp-shell-cookies", "{syn_backlog: 1}");
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
    // Data both ways on every connection, cookie ones included.
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const Bytes up = generated(100000, 10 + static_cast<std::uint32_t>(i));
        const Bytes down = generated(50000, 20 + static_cast<std::uint32_t>(i));
        TcpConnection& server = *servers[i];
        // accept() order need not match connect() order: pair by 4-tuple.
        TcpConnection* peer = nullptr;
        for (auto& s : servers)
            if (s->remote() == clients[i]->local()) peer = s.get();
        REQUIRE(peer != nullptr);
        (void)server;
        Pump c{*clients[i], up}, s{*peer, down};
        REQUIRE(net.run_until([&] {
            c.step();
            s.step();
            return clients[i]->eof() && peer->eof();
        }));
        CHECK(s.received == up);
        CHECK(c.received == down);
    }
}

TEST_CASE("syn_cookies: always answers every SYN with a cookie, keeping no state",
          "[tcp_utcp][shell][syn_cookies]") {
    // Linux's tcp_syncookies=2 (RFC 4987 3.6): the first SYN already gets a cookie, far below
    // syn_backlog, and the connection exists only once the ACK returns it.
    Net net("utcp-shell-cookies-always", "{syn_cookies: always}");
    auto listener = net.server.engine.listen(80, 0);
    auto client = net.client.engine.connect({kServer, 80});
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server != nullptr;
    }));
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") == 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") == 1);
    CHECK_FALSE(server->info().sack_enabled);  // a cookie carries the MSS only
    const Bytes hello = generated(3000, 3);
    REQUIRE(client->send(hello) == hello.size());
    REQUIRE(net.run_until([&] { return server->readable_bytes() == hello.size(); }));
}

TEST_CASE("closing with unread data resets the peer (RFC 2525 2.17)", "[tcp_utcp][shell]") {
    Net net("utcp-shell-reset");
    auto listener = net.server.engine.listen(7000, 0);
    auto client = net.client.engine.connect({kServer, 7000});
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    const Bytes hello = generated(1000, 3);
    REQUIRE(client->send(hello) == hello.size());
    REQUIRE(net.run_until([&] { return server->readable_bytes() == hello.size(); }));
    std::uint32_t events = 0;
    client->on_event([&](std::uint32_t e) { events |= e; });
    server.reset();  // unread data: RST, not FIN
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    net.scheduler.run_until_idle();
    CHECK(client->error() == TcpError::reset);
    CHECK((events & kTcpError) != 0);
}

TEST_CASE("destroying a listener resets the connections nobody accepted", "[tcp_utcp][shell]") {
    Net net("utcp-shell-listener-close");
    auto listener = net.server.engine.listen(7001, 0);
    auto client = net.client.engine.connect({kServer, 7001});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }));
    listener.reset();
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    CHECK(client->error() == TcpError::reset);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
}

TEST_CASE("idle connections: the engine accounts their memory", "[tcp_utcp][shell][memory]") {
    Net net("utcp-shell-memory");
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
    net.run_until([] { return false; }, 1s);  // let delayed ACKs and timers settle
    const std::size_t per_connection = (net.client.engine.memory_in_use() - before) / kCount;
    CHECK(counter_of(net.client.engine, "connections_current") == kCount);
    CHECK(counter_of(net.client.engine, "memory_bytes_current") ==
          net.client.engine.memory_in_use());
    WARN("client engine bytes per idle connection: " << per_connection);
    CHECK(per_connection > sizeof(utcp::Tcb));
    CHECK(per_connection <= 1024);  // the bound for an idle connection
}
