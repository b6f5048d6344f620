// Listeners and the engine's bounds against misuse and hostile peers, on both engines: a
// listener callback destroying another listener of the same flush, segments to a broadcast
// address (RFC 1122 4.2.3.10), bare ACKs and SYN+ACKs to a listener, closing a listener with
// connections nobody accepted, the accept queue bounded by the backlog, and max_connections on
// every path that adds a connection. Each case states the correct behaviour.
#include <catch2/catch.hpp>
#include <vector>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE("a listener callback destroying another listener does not call into it",
                   "[tcp_engines][listener]", TCP_ENGINES) {
    Net net(TestType::name, "listener-flush");
    auto first = net.server.engine.listen(7101, 0);
    auto second = net.server.engine.listen(7102, 0);
    int second_calls = 0;
    SECTION("callbacks installed before the handshakes complete in one turn") {
        first->on_acceptable([&] { second.reset(); });
        second->on_acceptable([&] { ++second_calls; });
        auto c1 = net.client.engine.connect({kServer, 7101});
        auto c2 = net.client.engine.connect({kServer, 7102});
        // Both handshakes complete in one turn, so both listeners are in one flush; ASan would
        // report the freed listener being read.
        REQUIRE(net.run_until([&] { return c1->state() == TcpState::established; }));
        net.scheduler.run_until_idle();
    }
    SECTION("callbacks installed on two non-empty accept queues") {
        auto c1 = net.client.engine.connect({kServer, 7101});
        auto c2 = net.client.engine.connect({kServer, 7102});
        REQUIRE(net.run_until([&] {
            return c1->state() == TcpState::established && c2->state() == TcpState::established;
        }));
        // Installing the callbacks queues both listeners for the same flush, `first` ahead.
        first->on_acceptable([&] { second.reset(); });
        second->on_acceptable([&] { ++second_calls; });
        net.scheduler.run_until_idle();
    }
    CHECK(second == nullptr);
    CHECK(second_calls == 0);
    CHECK(first->accept() != nullptr);
}

TEMPLATE_TEST_CASE("segments to a broadcast address are dropped silently (RFC 1122 4.2.3.10)",
                   "[tcp_engines][listener]", TCP_ENGINES) {
    Net net(TestType::name, "broadcast");
    auto listener = net.server.engine.listen(7103, 0);
    inject(net.client, ip4("10.1.0.255"), segment_to(40001, 7103, wire::tcp_flag::syn, 1000));
    inject(net.client, ip4("10.1.0.255"), segment_to(40001, 7104, wire::tcp_flag::syn, 1000));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rx_not_unicast") == 2);
    CHECK(counter_of(net.server.engine, "rst_sent") == 0);
    CHECK(counter_of(net.server.engine, "segments_sent") == 0);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
    // The unicast address still works.
    inject(net.client, kServer, segment_to(40001, 7104, wire::tcp_flag::syn, 1000));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rst_sent") == 1);
}

TEMPLATE_TEST_CASE("a bare ACK to a listener gets one RST, counted once", "[tcp_engines][listener]",
                   TCP_ENGINES) {
    Net net(TestType::name, "bare-ack");
    auto listener = net.server.engine.listen(83, 0);
    inject(net.client, kServer, segment_to(40000, 83, wire::tcp_flag::ack, 1000, 12345));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "segments_sent") == 1);
    CHECK(counter_of(net.server.engine, "rst_sent") == 1);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
}

TEMPLATE_TEST_CASE("a SYN+ACK to a listener gets a RST, never a cookie", "[tcp_engines][listener]",
                   TCP_ENGINES) {
    Net net(TestType::name, "synack", "{syn_backlog: 1}");
    auto listener = net.server.engine.listen(91, 0);
    inject(net.client, kServer, segment_to(40002, 91, wire::tcp_flag::syn, 5000));
    inject(net.client, kServer,
           segment_to(40003, 91, wire::tcp_flag::syn | wire::tcp_flag::ack, 5000, 777));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") == 0);
    CHECK(counter_of(net.server.engine, "rst_sent") >= 1);
}

TEMPLATE_TEST_CASE("destroying a listener resets each connection nobody accepted, once",
                   "[tcp_engines][listener]", TCP_ENGINES) {
    Net net(TestType::name, "listener-close");
    auto listener = net.server.engine.listen(7001, 0);
    auto client = net.client.engine.connect({kServer, 7001});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }));
    listener.reset();
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }));
    CHECK(client->error() == TcpError::reset);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
    // One RST, one reset: counted where it was received. The server's own abort is no reset
    // (tcp_utcp counts every connection ended by an error, local aborts included).
    net.run_for(1s);
    CHECK(counter_of(net.client.engine, "connections_reset") == 1);
    CHECK(counter_of(net.server.engine, "connections_reset") == 0);
}

TEMPLATE_TEST_CASE("the accept queue never exceeds the backlog", "[tcp_engines][listener]",
                   TCP_ENGINES) {
    SECTION("backlog 1, two handshakes") {
        Net net(TestType::name, "backlog-1");
        auto listener = net.server.engine.listen(7107, 1);
        // Both SYNs reach the listener while its queue is empty, so both become SYN-RECEIVED;
        // the second handshake's ACK finds the queue full and is dropped.
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
        // With room again, the retransmitted SYN-ACK and the client's ACK complete the second.
        std::unique_ptr<TcpConnection> a2;
        CHECK(net.run_until([&] { return (a2 = listener->accept()) != nullptr; }, 10s));
    }
    SECTION("backlog 2, ten handshakes") {
        Net net(TestType::name, "backlog-2", "{syn_backlog: 16}");
        auto listener = net.server.engine.listen(89, 2);
        std::vector<std::unique_ptr<TcpConnection>> clients, servers;
        for (int i = 0; i < 10; ++i) clients.push_back(net.client.engine.connect({kServer, 89}));
        net.run_for(1s);
        while (auto c = listener->accept()) servers.push_back(std::move(c));
        CHECK(servers.size() == 2);
        CHECK(counter_of(net.server.engine, "listen_overflows") > 0);
        // Once accepted, the waiting clients get in as their handshakes are retried.
        REQUIRE(net.run_until([&] {
            while (auto c = listener->accept()) servers.push_back(std::move(c));
            return servers.size() == clients.size();
        }));
    }
}

TEMPLATE_TEST_CASE("max_connections bounds connect()", "[tcp_engines][listener]", TCP_ENGINES) {
    Net net(TestType::name, "maxconn-connect", "{}", "{max_connections: 1}");
    auto listener = net.server.engine.listen(7105, 0);
    auto first = net.client.engine.connect({kServer, 7105});
    CHECK_THROWS_AS(net.client.engine.connect({kServer, 7105}), std::runtime_error);
    CHECK(counter_of(net.client.engine, "connections_current") == 1);
}

TEMPLATE_TEST_CASE("max_connections bounds connections completed from a SYN cookie",
                   "[tcp_engines][listener][syn_cookies]", TCP_ENGINES) {
    Net net(TestType::name, "maxconn-cookie", "{max_connections: 1}");
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
    // A full table drops the ACK (listen_drops); tcp_utcp counts it as an accept-queue
    // overflow (listen_overflows).
    CHECK(counter_of(net.server.engine, "listen_drops") >= 1);
    CHECK(counter_of(net.server.engine, "connections_current") == 1);
}

TEMPLATE_TEST_CASE("max_connections bounds the table, cookie handshakes included",
                   "[tcp_engines][listener][syn_cookies]", TCP_ENGINES) {
    Net net(TestType::name, "maxconn-table", "{max_connections: 2}");
    auto listener = net.server.engine.listen(88, 0);
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    for (int i = 0; i < 10; ++i) clients.push_back(net.client.engine.connect({kServer, 88}));
    net.run_until(
        [&] {
            while (auto c = listener->accept()) servers.push_back(std::move(c));
            return false;
        },
        5s);
    CHECK(counter_of(net.server.engine, "connections_current") <= 2);
    CHECK(servers.size() <= 2);
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") > 0);
}
