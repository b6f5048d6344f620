// What an engine holds: the memory of idle connections, on both engines (accounted, and within
// the bound of 1 KiB each); and, on tcp_classic only, handles that outlive their engine
// (destroyed with connections open and listeners held): they end aborted and stay safe to use.
// That goes beyond tcp.hpp's contract (handles must be destroyed before their engine), which
// tcp_utcp keeps to: its handles read the freed engine (SIGSEGV) in the same case.
#include <catch2/catch.hpp>
#include <vector>

#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE("idle connections: the engine accounts their memory", "[tcp_engines][memory]",
                   TCP_ENGINES) {
    Net net(TestType::name, "memory");
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
    net.run_for(1s);  // let delayed ACKs and timers settle
    const std::size_t per_connection = (net.client.engine.memory_in_use() - before) / kCount;
    CHECK(counter_of(net.client.engine, "connections_current") == kCount);
    CHECK(counter_of(net.client.engine, "memory_bytes_current") ==
          net.client.engine.memory_in_use());
    CHECK(per_connection > connection_state_size(TestType::name));
    CHECK(per_connection <= 1024);  // the bound for an idle connection
}

TEMPLATE_TEST_CASE(
    "handles outliving the engine: its connections end aborted and the handles stay safe",
    "[tcp_engines][lifetime]", tcp_classic) {
    Net net(TestType::name, "engine-gone");
    auto listener = net.server.engine.listen(7201, 0);
    // A second engine on the client's layer (it takes over as the layer's TCP transport).
    auto engine = net.another_engine(net.client, "{}", 3);
    auto client = engine->connect({kServer, 7201});
    auto own_listener = engine->listen(7202, 0);
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    const Bytes data = generated(1000, 7);
    REQUIRE(server->send(data) == data.size());
    REQUIRE(net.run_until([&] { return client->readable_bytes() == data.size(); }));
    int events = 0;
    client->on_event([&](std::uint32_t) { ++events; });
    net.scheduler.run_until_idle();
    const int events_before = events;

    engine.reset();
    CHECK(client->state() == TcpState::closed);
    CHECK(client->error() == TcpError::aborted);
    CHECK(client->send(data) == 0);
    client->shutdown_write();
    client->on_event([&](std::uint32_t) { ++events; });  // nothing to post it to
    CHECK(own_listener->accept() == nullptr);
    own_listener->on_acceptable([] {});
    // Destroying them would close (a RST: unread data) and stop listening through the engine.
    client.reset();
    own_listener.reset();
    net.scheduler.run_until_idle();
    CHECK(events == events_before);
}
