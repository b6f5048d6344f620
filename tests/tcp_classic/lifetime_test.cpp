// tcp_classic lifetimes: handles that outlive their engine (it is destroyed with connections
// open and listeners held).
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;

TEST_CASE("handles outliving the engine: its connections end aborted and the handles stay safe",
          "[tcp_classic][lifetime]") {
    Net net("classic-engine-gone");
    auto listener = net.server.engine.listen(7201, 0);
    // A second engine on the client's layer (it takes over as the layer's TCP transport).
    auto engine = std::make_unique<classic::Engine>(
        classic::read_engine_config(Config::load_string("{}", "tcp.yaml")), *net.client.layer,
        net.scheduler, net.client.env.logger("tcp2"));
    engine->start();
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
