// Closing: FIN after queued data, half-close, TIME-WAIT expiry, LAST-ACK, simultaneous close
// (CLOSING), user abort.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {}  // namespace

TEST_CASE("FIN follows queued data, half-close keeps the other direction open") {
    Config config = test_config();
    config.msl = 10s;
    CorePair pair = established_pair(config, config);
    std::vector<std::uint8_t> data(2000, 1);
    Outputs out;
    send_1(*pair.client, data, pair.now(), out);
    shutdown_1(*pair.client, pair.now(), out);
    CHECK(pair.client->state == TcpState::fin_wait_1);
    REQUIRE_FALSE(out.segments.empty());
    CHECK(out.segments.back().has(flag::fin));
    CHECK(out.segments.back().seq +
              static_cast<std::uint32_t>(out.segments.back().payload_length) ==
          pair.client->iss + 1 + 2000);
    CHECK(send_1(*pair.client, data, pair.now(), out) == 0);  // closing: no more data
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::fin_wait_2; }, 100));
    CHECK(pair.server->state == TcpState::close_wait);
    CHECK(pair.server->recv_buffer.readable() == 2000);
    CHECK_FALSE(eof(*pair.server));

    // The server can still send: half-close (RFC 9293 3.6).
    Outputs reply;
    CHECK(send_1(*pair.server, std::vector<std::uint8_t>(500, 2), pair.now(), reply) == 500);
    pair.from_server(reply);
    REQUIRE(pair.run_until([&] { return pair.client->recv_buffer.readable() == 500; }, 100));
    CHECK(pair.client->state == TcpState::fin_wait_2);

    Outputs close_out;
    close_1(*pair.server, pair.now(), close_out);  // unread data -> RST (RFC 2525 2.17)
    CHECK(pair.server->state == TcpState::closed);
    REQUIRE(close_out.segments.size() == 1);
    CHECK(close_out.segments[0].has(flag::rst));
}

TEST_CASE("orderly close: LAST-ACK, TIME-WAIT for 2*MSL, then CLOSED") {
    Config config = test_config();
    config.msl = 5s;
    CorePair pair = established_pair(config, config);
    Outputs out;
    close_1(*pair.client, pair.now(), out);
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.server->state == TcpState::close_wait; }, 100));
    CHECK(eof(*pair.server));
    CHECK((pair.server_events & kTcpReadable) != 0);
    Outputs server_close;
    close_1(*pair.server, pair.now(), server_close);
    CHECK(pair.server->state == TcpState::last_ack);
    pair.from_server(server_close);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::time_wait; }, 100));
    const Time entered = pair.now();
    REQUIRE(pair.run_until([&] { return pair.server->state == TcpState::closed; }, 100));
    CHECK(pair.server->error == TcpError::none);
    CHECK((pair.server_events & kTcpClosed) != 0);
    CHECK(pair.client->state == TcpState::time_wait);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::closed; }, 100));
    CHECK(pair.now() - entered >= 10s);
    CHECK(pair.now() - entered < 11s);
}

TEST_CASE("simultaneous close goes through CLOSING to TIME-WAIT on both sides") {
    CorePair pair = established_pair();
    Outputs a, b;
    close_1(*pair.client, pair.now(), a);
    close_1(*pair.server, pair.now(), b);
    CHECK(pair.client->state == TcpState::fin_wait_1);
    CHECK(pair.server->state == TcpState::fin_wait_1);
    // Deliver the crossing FINs directly: each side sees the FIN before its own FIN is acked.
    Outputs a2 = deliver_in(*pair.client, b.segments.at(0), pair.now() + 1ms);
    Outputs b2 = deliver_in(*pair.server, a.segments.at(0), pair.now() + 1ms);
    CHECK(pair.client->state == TcpState::closing);
    CHECK(pair.server->state == TcpState::closing);
    deliver_in(*pair.client, b2.segments.at(0), pair.now() + 2ms);
    deliver_in(*pair.server, a2.segments.at(0), pair.now() + 2ms);
    CHECK(pair.client->state == TcpState::time_wait);
    CHECK(pair.server->state == TcpState::time_wait);
}

TEST_CASE("a retransmitted FIN in TIME-WAIT is ACKed and restarts 2*MSL") {
    CorePair pair = established_pair();
    Outputs out;
    close_1(*pair.client, pair.now(), out);
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.server->state == TcpState::close_wait; }, 100));
    Outputs fin_out;
    close_1(*pair.server, pair.now(), fin_out);
    const WireSegment fin = fin_out.segments.at(0);
    pair.from_server(fin_out);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::time_wait; }, 100));
    const Time first_deadline = *pair.client->timers.time_wait;
    Outputs again = deliver_in(*pair.client, fin, pair.now() + 1s);
    REQUIRE(again.segments.size() == 1);
    CHECK(again.segments[0].flags == flag::ack);
    CHECK(again.segments[0].ack == fin.seq + 1);
    CHECK(*pair.client->timers.time_wait > first_deadline);
}

TEST_CASE("abort sends RST and reports aborted") {
    CorePair pair = established_pair();
    Outputs out;
    abort_1(*pair.client, pair.now(), out);
    CHECK(pair.client->state == TcpState::closed);
    CHECK(out.error == TcpError::aborted);
    REQUIRE(out.segments.size() == 1);
    CHECK(out.segments[0].flags == flag::rst);
    Outputs peer = deliver_in(*pair.server, out.segments[0], pair.now());
    CHECK(pair.server->state == TcpState::closed);
    CHECK(pair.server->error == TcpError::reset);
}

TEST_CASE("close in SYN-RECEIVED sends the FIN only after the handshake completes") {
    Config config = test_config();
    Outputs out;
    Tcb client = connect_1(config, client_tuple(), 0s, out);
    Outputs server_out;
    std::optional<Tcb> server =
        deliver_in_1(Listener{config, 80}, server_tuple(), out.segments.at(0), 1ms, server_out);
    REQUIRE(server);
    Outputs close_out;
    shutdown_1(*server, 2ms, close_out);
    CHECK(close_out.segments.empty());
    CHECK(server->state == TcpState::syn_received);
    Outputs client_out = deliver_in(client, server_out.segments.at(0), 3ms);
    Outputs established = deliver_in(*server, client_out.segments.at(0), 4ms);
    CHECK(server->state == TcpState::fin_wait_1);
    REQUIRE(established.segments.size() == 1);
    CHECK(established.segments[0].has(flag::fin));
    CHECK(established.segments[0].seq == server->iss + 1);
    Outputs fin_ack = deliver_in(client, established.segments[0], 5ms);
    CHECK(client.state == TcpState::close_wait);
    deliver_in(*server, fin_ack.segments.at(0), 6ms);
    CHECK(server->state == TcpState::fin_wait_2);
}
