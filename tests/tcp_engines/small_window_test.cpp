// Sender silly-window avoidance against small and shrinking windows (RFC 9293 3.8.6.2.1), on
// both engines: a peer whose whole window is 1 KiB (small embedded stacks) is sent a segment
// every round trip, and a peer that offered a large window and now offers a few bytes is not
// sent tiny segments. A ScriptedPeer in place of the client's engine plays the peer. Zero
// windows are in persist_test.cpp.
#include <catch2/catch.hpp>

#include "tcp_engine_harness.hpp"
#include "tcp_scripted_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

/// The peer connects to a listener of the server's engine; returns the accepted connection.
std::unique_ptr<TcpConnection> accept_from(Net& net, ScriptedPeer& peer, TcpListener& listener,
                                           std::uint16_t port) {
    peer.connect(kServer, port, 40200);
    net.scheduler.run_until_idle();
    auto server = listener.accept();
    REQUIRE(server);
    REQUIRE(peer.established);
    return server;
}

}  // namespace

TEMPLATE_TEST_CASE(
    "a peer whose whole window is 1 KiB gets a segment every round trip, not every 200 ms",
    "[tcp_engines][sws]", TCP_ENGINES) {
    Net net(TestType::name, "small-window");
    auto listener = net.server.engine.listen(7301, 0);
    ScriptedPeer peer(*net.client.layer, net.scheduler);
    peer.syn_window = 65535;  // the SYN's window says nothing about the window to come
    peer.buffer = 1024;
    peer.ack_delay = 10ms;  // the round trip
    auto server = accept_from(net, peer, *listener, 7301);
    const Bytes data = generated(16 * 1024, 7);
    REQUIRE(server->send(data) == data.size());
    const Time start = net.scheduler.now();
    REQUIRE(net.run_until([&] { return peer.received == data.size(); }, 10s));
    // 16 KiB in 16 round trips of 10 ms (plus the test clock's 1 ms steps), where waiting for
    // the SWS override timer (at least the 200 ms minimum RTO) took over 3 s.
    CHECK(net.scheduler.now() - start <= 16 * 10ms + 30ms);
    for (const auto& arrival : peer.arrivals) CHECK(arrival.length == 1024);
}

TEMPLATE_TEST_CASE(
    "a peer that offered a large window and now offers a few bytes gets no tiny segment",
    "[tcp_engines][sws]", TCP_ENGINES) {
    Net net(TestType::name, "shrinking-window");
    auto listener = net.server.engine.listen(7302, 0);
    ScriptedPeer peer(*net.client.layer, net.scheduler);
    peer.buffer = 60000;  // 41 full segments and 140 bytes
    peer.reading = false;
    peer.ack_delay = 10ms;
    auto server = accept_from(net, peer, *listener, 7302);
    const Bytes data = generated(100 * 1024, 8);
    REQUIRE(server->send(data) == data.size());
    // Before the override timer (at least 200 ms) only full-sized segments go, though 140
    // bytes of window stay open once the peer's buffer is full.
    net.run_for(150ms);
    CHECK(peer.received == 41 * 1460);
    for (const auto& arrival : peer.arrivals) CHECK(arrival.length == 1460);
    peer.reading = true;
    peer.read_all();
    REQUIRE(net.run_until([&] { return peer.received == data.size(); }, 10s));
}
