// Resets, on both engines: closing with unread data, or receiving data after close(), resets
// the peer (RFC 2525 2.17) and only a received RST counts as a reset; RSTs inside the window
// draw challenge ACKs from one budget per engine (RFC 5961 7). Listeners resetting the
// connections nobody accepted are in listener_bounds_test.cpp.
#include <catch2/catch.hpp>

#include "tcp_raw_client.hpp"
#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE("closing with unread data resets the peer (RFC 2525 2.17)",
                   "[tcp_engines][reset]", TCP_ENGINES) {
    Net net(TestType::name, "reset");
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

TEMPLATE_TEST_CASE("new data arriving after close() resets the sender (RFC 2525 2.17)",
                   "[tcp_engines][reset]", TCP_ENGINES) {
    // A little (one segment) or more than the window (the sender keeps sending until the RST).
    const std::size_t size = GENERATE(1000, 200000);
    Net net(TestType::name, "close-data");
    Established e(net, 7130);
    e.server->close();
    REQUIRE(net.run_until([&] { return e.client->eof(); }));
    CHECK(e.client->state() == TcpState::close_wait);
    const Bytes late = generated(size, 12);
    const std::size_t taken = e.client->send(late);
    REQUIRE(taken > 0);
    if (size == 1000) CHECK(taken == size);
    REQUIRE(net.run_until([&] { return e.client->state() == TcpState::closed; }, 5s));
    CHECK(e.client->error() == TcpError::reset);
    CHECK(e.server->state() == TcpState::closed);
    CHECK(e.server->error() == TcpError::aborted);
    CHECK(counter_of(net.server.engine, "connections_current") == 0);
    // Only the RST the client received is a reset; the server's local abort is not.
    CHECK(counter_of(net.client.engine, "connections_reset") == 1);
    // tcp_utcp counts every connection ended by an error, local aborts included.
    CHECK(counter_of(net.server.engine, "connections_reset") == 0);
}

TEMPLATE_TEST_CASE("challenge ACKs share one budget per engine, not per connection (RFC 5961 7)",
                   "[tcp_engines][reset][rfc5961]", TCP_ENGINES) {
    Net net(TestType::name, "challenge", "{challenge_ack_limit: 3}");
    auto listener = net.server.engine.listen(7206, 0);
    RawTcpClient peer(*net.client.layer);
    std::vector<std::unique_ptr<TcpConnection>> accepted;
    auto in_window_rsts = [&](std::uint16_t local_port, int count) {
        peer.open(kServer, 7206, local_port, false);
        net.scheduler.run_until_idle();
        accepted.push_back(listener->accept());
        REQUIRE(accepted.back());
        for (int i = 0; i < count; ++i) peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
        net.scheduler.run_until_idle();
    };
    in_window_rsts(40101, 2);
    CHECK(peer.pure_acks() == 2);
    in_window_rsts(40102, 5);  // a second connection finds one challenge ACK left
    CHECK(peer.pure_acks() == 3);
    CHECK(counter_of(net.server.engine, "challenge_acks") == 3);
    net.scheduler.advance(1s);
    peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
    net.scheduler.run_until_idle();
    CHECK(peer.pure_acks() == 4);  // a second later the budget is back
    CHECK(accepted[1]->state() == TcpState::established);
}
