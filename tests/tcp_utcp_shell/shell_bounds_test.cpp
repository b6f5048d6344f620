// The tcp_utcp shell against misuse and hostile peers: listener callbacks closing listeners,
// segments to a broadcast address, SYN+ACK and bare ACKs to a listener, data after close(),
// orphaned connections facing a zero window, and the bounds (accept queue, max_connections,
// TIME-WAIT, config values). Each case states the correct behaviour.
#include "shell_fixture.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

wire::TcpRepr raw_segment(std::uint16_t source_port, std::uint16_t destination_port,
                          std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0) {
    wire::TcpRepr r;
    r.source_port = source_port;
    r.destination_port = destination_port;
    r.sequence_number = seq;
    r.acknowledgment_number = ack;
    r.flags = flags;
    r.window = 1000;
    return r;
}

template <typename Accepted>
void establish(Net& net, TcpListener& listener, TcpConnection& client, Accepted& server) {
    REQUIRE(net.run_until([&] {
        if (!server) server = listener.accept();
        return server && client.state() == TcpState::established;
    }));
}

}  // namespace

TEST_CASE("a listener callback may destroy another listener of the same flush",
          "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-listeners");
    auto a = net.server.engine.listen(81, 0);
    auto b = net.server.engine.listen(82, 0);
    int b_calls = 0;
    a->on_acceptable([&] { b.reset(); });
    b->on_acceptable([&] { ++b_calls; });
    auto c1 = net.client.engine.connect({kServer, 81});
    auto c2 = net.client.engine.connect({kServer, 82});
    // Both handshakes complete in one turn, so both listeners are in one flush; ASan would
    // report the freed listener being read.
    REQUIRE(net.run_until([&] { return c1->state() == TcpState::established; }));
    net.scheduler.run_until_idle();
    CHECK(b == nullptr);
    CHECK(b_calls == 0);
}

TEST_CASE("a bare ACK to a listener gets one RST, counted once", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-bare-ack");
    auto listener = net.server.engine.listen(83, 0);
    inject(net.client, kServer, raw_segment(40000, 83, wire::tcp_flag::ack, 1000, 12345));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "segments_sent") == 1);
    CHECK(counter_of(net.server.engine, "rst_sent") == 1);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
}

TEST_CASE("segments to the broadcast address are dropped silently (RFC 1122 4.2.3.10)",
          "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-broadcast");
    auto listener = net.server.engine.listen(84, 0);
    inject(net.client, ip4("10.1.0.255"), raw_segment(40001, 84, wire::tcp_flag::syn, 1000));
    inject(net.client, ip4("10.1.0.255"), raw_segment(40001, 85, wire::tcp_flag::syn, 1000));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "rx_not_unicast") == 2);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
    CHECK(counter_of(net.server.engine, "segments_sent") == 0);
}

TEST_CASE("a SYN+ACK to a listener gets a RST, never a cookie", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-synack", "{syn_backlog: 1}");
    auto listener = net.server.engine.listen(91, 0);
    inject(net.client, kServer, raw_segment(40002, 91, wire::tcp_flag::syn, 5000));
    inject(net.client, kServer,
           raw_segment(40003, 91, wire::tcp_flag::syn | wire::tcp_flag::ack, 5000, 777));
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") == 0);
    CHECK(counter_of(net.server.engine, "rst_sent") >= 1);
}

TEST_CASE("data arriving after close() resets the sender (RFC 2525 2.17)",
          "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-after-close");
    auto listener = net.server.engine.listen(86, 0);
    auto client = net.client.engine.connect({kServer, 86});
    std::unique_ptr<TcpConnection> server;
    establish(net, *listener, *client, server);
    server->close();
    REQUIRE(net.run_until([&] { return client->state() == TcpState::close_wait; }));
    const Bytes junk = generated(200000, 7);
    REQUIRE(client->send(junk) > 0);
    REQUIRE(net.run_until([&] { return client->state() == TcpState::closed; }, 5s));
    CHECK(client->error() == TcpError::reset);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
}

TEST_CASE("an orphaned connection facing a zero window gives up", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-zero-window", "{}", "{rcvbuf: 1KiB}");
    auto listener = net.server.engine.listen(87, 0);
    auto client = net.client.engine.connect({kServer, 87});
    std::unique_ptr<TcpConnection> server;
    establish(net, *listener, *client, server);
    const Bytes data = generated(200000, 8);
    REQUIRE(server->send(data) > 0);
    net.run_until([] { return false; }, 2s);  // the client reads nothing: its window closes
    server.reset();                           // orphan: FIN queued behind unsent data
    REQUIRE(counter_of(net.server.engine, "connections_current") == 1);
    REQUIRE(net.run_until([&] { return counter_of(net.server.engine, "connections_current") == 0; },
                          3600s));
    CHECK(counter_of(net.server.engine, "memory_bytes_current") <
          1024 + 64 * sizeof(void*));  // only the table's buckets remain
}

TEST_CASE("max_connections bounds the table, cookie handshakes included",
          "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-max-connections", "{max_connections: 2}");
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

TEST_CASE("the accept queue never holds more than the backlog", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-backlog", "{syn_backlog: 16}");
    auto listener = net.server.engine.listen(89, 2);
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    for (int i = 0; i < 10; ++i) clients.push_back(net.client.engine.connect({kServer, 89}));
    net.run_until([] { return false; }, 1s);
    while (auto c = listener->accept()) servers.push_back(std::move(c));
    CHECK(servers.size() == 2);
    CHECK(counter_of(net.server.engine, "listen_overflows") > 0);
    // Once accepted, the waiting clients get in as their handshakes are retried.
    REQUIRE(net.run_until([&] {
        while (auto c = listener->accept()) servers.push_back(std::move(c));
        return servers.size() == clients.size();
    }));
}

TEST_CASE("closing a listener resets each pending connection once", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-listener-close");
    auto listener = net.server.engine.listen(90, 0);
    auto client = net.client.engine.connect({kServer, 90});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }));
    listener.reset();
    net.scheduler.run_until_idle();
    CHECK(counter_of(net.server.engine, "connections_aborted") == 1);  // not a peer RST
}

TEST_CASE("past max_time_wait, connections skip TIME-WAIT", "[tcp_utcp][shell][bounds]") {
    Net net("utcp-bounds-time-wait", "{}", "{max_time_wait: 3}");
    auto listener = net.server.engine.listen(92, 0);
    for (int i = 0; i < 5; ++i) {
        auto client = net.client.engine.connect({kServer, 92});
        std::unique_ptr<TcpConnection> server;
        establish(net, *listener, *client, server);
        client->close();  // the client closes first: it is the one that waits (RFC 9293 3.6)
        REQUIRE(net.run_until([&] { return server->state() == TcpState::close_wait; }));
        server->close();
        REQUIRE(net.run_until([&] { return server->state() == TcpState::closed; }));
        CHECK((client->state() == TcpState::time_wait) == (i < 3));
    }
    CHECK(counter_of(net.client.engine, "time_wait_current") == 3);
    CHECK(counter_of(net.client.engine, "time_wait_overflows") == 2);
}

TEST_CASE("config values out of range are errors at their key", "[tcp_utcp][shell][bounds]") {
    const auto read = [](const std::string& yaml) {
        return utcp::read_engine_config(Config::load_string(yaml, "tcp.yaml"));
    };
    CHECK_THROWS_AS(read("{rcvbuf: 4GiB}"), ConfigError);
    CHECK_THROWS_AS(read("{sndbuf: 512}"), ConfigError);
    CHECK_THROWS_AS(read("{rto_initial: 0s}"), ConfigError);
    CHECK_THROWS_AS(read("{msl: 0s}"), ConfigError);
    CHECK_THROWS_AS(read("{delack_timeout: 1s}"), ConfigError);
    CHECK_THROWS_AS(read("{cc: vegas}"), ConfigError);
    CHECK(read("{rcvbuf: 1MiB, cc: newreno}").core.rcvbuf == 1u << 20);
}
