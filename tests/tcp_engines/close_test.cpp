// Closing connections, on both engines: the side that closes first waits in FIN-WAIT-2 and
// TIME-WAIT while the other passes LAST-ACK, half-closed connections still carry data the other
// way, and a retransmitted bare FIN carries no PSH (RFC 9293 3.9.1). Resets on close are in
// reset_test.cpp, TIME-WAIT itself in time_wait_test.cpp.
#include <catch2/catch.hpp>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace wire::tcp_flag;

TEMPLATE_TEST_CASE("a server closing first waits in FIN-WAIT-2 / TIME-WAIT, the client in LAST-ACK",
                   "[tcp_engines][close]", TCP_ENGINES) {
    Net net(TestType::name, "close-order");
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

TEMPLATE_TEST_CASE("a retransmitted bare FIN carries no PSH (RFC 9293 3.9.1: PSH marks data)",
                   "[tcp_engines][close]", TCP_ENGINES) {
    Accepted a(TestType::name, "fin-psh", 7301, 100ms);
    RawPeer& peer = a.peer;
    TcpConnection* connection = a.connection.get();
    SECTION("FIN-WAIT-1") {}
    SECTION("LAST-ACK") {
        peer.send(fin | ack, 1, 1);
        REQUIRE(connection->state() == TcpState::close_wait);
    }
    const std::size_t seen = peer.segments.size();
    connection->shutdown_write();
    // Never acknowledged: the FIN goes, then twice again after the RTO.
    REQUIRE(a.net.run_until([&] { return peer.segments.size() >= seen + 3; }, 30s));
    for (std::size_t i = seen; i < peer.segments.size(); ++i) {
        CHECK(peer.segments[i].repr.flags == (fin | ack));
        CHECK(peer.segments[i].repr.payload.empty());
    }
}
