// Handshakes: active/passive open with option negotiation, simultaneous open (RFC 9293 3.5
// figure 7), RST for a closed port (3.10.7.1), listener edge cases.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

TEST_CASE("three-way handshake negotiates MSS, window scale, SACK and timestamps") {
    Config client_config = test_config();
    Config server_config = test_config();
    server_config.mss = 1200;
    server_config.rcvbuf = 1024 * 1024;
    Outputs out;
    Tcb client = connect_1(client_config, client_tuple(), 1s, out);
    REQUIRE(client.state == TcpState::syn_sent);
    REQUIRE(out.segments.size() == 1);
    const WireSegment syn = out.segments[0];
    CHECK(syn.flags == flag::syn);
    CHECK(syn.seq == client.iss);
    CHECK(client.iss == tcp::generate_isn(client_tuple(), client_config.isn_key, 1s));
    CHECK(syn.options.mss == std::optional<std::uint16_t>(1460));
    CHECK(syn.options.window_scale.has_value());
    CHECK(syn.options.sack_permitted);
    REQUIRE(syn.options.timestamps.has_value());
    CHECK(syn.options.timestamps->echo == 0);

    Outputs server_out;
    std::optional<Tcb> server =
        deliver_in_1(Listener{server_config, 80}, server_tuple(), syn, 1s + 5ms, server_out);
    REQUIRE(server);
    CHECK(server->state == TcpState::syn_received);
    REQUIRE(server_out.segments.size() == 1);
    const WireSegment syn_ack = server_out.segments[0];
    CHECK(syn_ack.flags == (flag::syn | flag::ack));
    CHECK(syn_ack.ack == syn.seq + 1);
    CHECK(syn_ack.options.mss == std::optional<std::uint16_t>(1200));
    CHECK(syn_ack.options.window_scale == std::optional<std::uint8_t>(5));  // 1 MiB buffer
    CHECK(syn_ack.options.timestamps->echo == syn.options.timestamps->value);

    Outputs client_out = deliver_in(client, syn_ack, 1s + 10ms);
    CHECK(client.state == TcpState::established);
    CHECK((client_out.events & kTcpConnected) != 0);
    CHECK(client.snd_mss == 1200);
    CHECK(client.snd_wscale == 5);
    CHECK(client.sack_ok);
    CHECK(client.ts_ok);
    CHECK(client.rto.has_sample());
    REQUIRE(client_out.segments.size() == 1);
    const WireSegment final_ack = client_out.segments[0];
    CHECK(final_ack.flags == flag::ack);
    CHECK(final_ack.ack == syn_ack.seq + 1);

    deliver_in(*server, final_ack, 1s + 15ms);
    CHECK(server->state == TcpState::established);
    CHECK(server->snd_mss == 1200);
    CHECK(server->snd_wscale == client.rcv_wscale);
    CHECK(server->snd_una == server->iss + 1);
}

TEST_CASE("options the peer does not offer stay off") {
    Config config = test_config();
    Outputs out;
    Tcb client = connect_1(config, client_tuple(), 0s, out);
    WireSegment syn_ack =
        peer_segment(client, SeqNum(5000), client.iss + 1, flag::syn | flag::ack, 8192);
    Outputs reply = deliver_in(client, syn_ack, 1ms);
    CHECK(client.state == TcpState::established);
    CHECK(client.snd_mss == 536);  // RFC 9293 3.7.1 default
    CHECK_FALSE(client.wscale_ok);
    CHECK(client.rcv_wscale == 0);
    CHECK_FALSE(client.sack_ok);
    CHECK_FALSE(client.ts_ok);
    CHECK(client.snd_wnd == 8192);
    REQUIRE(reply.segments.size() == 1);
    CHECK_FALSE(reply.segments[0].options.timestamps.has_value());
}

TEST_CASE("simultaneous open reaches ESTABLISHED on both sides") {
    Config config = test_config();
    Outputs out_a, out_b;
    Tcb a = connect_1(config, client_tuple(), 0s, out_a);
    Tcb b = connect_1(config, server_tuple(), 0s, out_b);
    // The SYNs cross: each side gets the other's SYN in SYN-SENT -> SYN-RECEIVED + SYN-ACK.
    Outputs a2 = deliver_in(a, out_b.segments.at(0), 5ms);
    Outputs b2 = deliver_in(b, out_a.segments.at(0), 5ms);
    CHECK(a.state == TcpState::syn_received);
    CHECK(b.state == TcpState::syn_received);
    REQUIRE(a2.segments.size() == 1);
    CHECK(a2.segments[0].flags == (flag::syn | flag::ack));
    CHECK(a2.segments[0].seq == a.iss);  // the same ISS again (figure 7)
    // Exchange the SYN-ACKs and whatever they provoke until both are synchronised.
    std::vector<WireSegment> to_a(b2.segments.begin(), b2.segments.end());
    std::vector<WireSegment> to_b(a2.segments.begin(), a2.segments.end());
    for (int round = 0; round < 4 && (!to_a.empty() || !to_b.empty()); ++round) {
        std::vector<WireSegment> next_a, next_b;
        for (const auto& s : to_a) {
            auto o = deliver_in(a, s, 10ms);
            next_b.insert(next_b.end(), o.segments.begin(), o.segments.end());
        }
        for (const auto& s : to_b) {
            auto o = deliver_in(b, s, 10ms);
            next_a.insert(next_a.end(), o.segments.begin(), o.segments.end());
        }
        to_a = std::move(next_a);
        to_b = std::move(next_b);
    }
    CHECK(a.state == TcpState::established);
    CHECK(b.state == TcpState::established);
    CHECK(a.snd_una == a.iss + 1);
    CHECK(b.rcv_nxt == a.iss + 1);
}

TEST_CASE("RST for a segment to a closed port (RFC 9293 3.10.7.1)") {
    WireSegment probe;
    probe.source_port = 1234;
    probe.destination_port = 99;
    probe.seq = SeqNum(100);
    probe.flags = flag::syn;
    auto reply = rst_for_closed(probe);
    REQUIRE(reply);
    CHECK(reply->flags == (flag::rst | flag::ack));
    CHECK(reply->seq == SeqNum(0));
    CHECK(reply->ack == SeqNum(101));
    CHECK(reply->destination_port == 1234);

    probe.flags = flag::ack;
    probe.ack = SeqNum(777);
    probe.payload.assign(10, 0);
    reply = rst_for_closed(probe);
    REQUIRE(reply);
    CHECK(reply->flags == flag::rst);
    CHECK(reply->seq == SeqNum(777));

    probe.flags = flag::rst;
    CHECK_FALSE(rst_for_closed(probe));
}

// SYN+FIN never reaches the core: the front half drops it (a counted drop) and tcp::Segment's
// one control value cannot express it.
TEST_CASE("listener: ACK gets RST, RST is dropped") {
    Listener listener{test_config(), 80};
    WireSegment segment;
    segment.source_port = 40000;
    segment.destination_port = 80;
    segment.seq = SeqNum(10);
    segment.ack = SeqNum(99);
    segment.flags = flag::ack;
    Outputs out;
    CHECK_FALSE(deliver_in_1(listener, server_tuple(), segment, 0s, out));
    REQUIRE(out.segments.size() == 1);
    CHECK(out.segments[0].flags == flag::rst);
    CHECK(out.segments[0].seq == SeqNum(99));

    out = {};
    segment.flags = flag::rst;
    CHECK_FALSE(deliver_in_1(listener, server_tuple(), segment, 0s, out));
    CHECK(out.segments.empty());
}

TEST_CASE("SYN-SENT: RST with acceptable ACK refuses, bad ACK gets RST") {
    Outputs out;
    Tcb client = connect_1(test_config(), client_tuple(), 0s, out);
    Outputs bad =
        deliver_in(client, peer_segment(client, SeqNum(1), client.iss + 7, flag::ack), 1ms);
    CHECK(client.state == TcpState::syn_sent);
    REQUIRE(bad.segments.size() == 1);
    CHECK(bad.segments[0].flags == flag::rst);
    CHECK(bad.segments[0].seq == client.iss + 7);

    Outputs unrelated_rst =
        deliver_in(client, peer_segment(client, SeqNum(1), SeqNum(0), flag::rst), 1ms);
    CHECK(client.state == TcpState::syn_sent);  // a RST without ACK is not believed
    CHECK(unrelated_rst.segments.empty());

    Outputs refused = deliver_in(
        client, peer_segment(client, SeqNum(0), client.iss + 1, flag::rst | flag::ack), 2ms);
    CHECK(client.state == TcpState::closed);
    CHECK(client.error == TcpError::refused);
    CHECK((refused.events & kTcpError) != 0);
}

TEST_CASE("CorePair completes a handshake") {
    CorePair pair(test_config(), test_config());
    REQUIRE(pair.run_until(
        [&] {
            return pair.server && pair.server->state == TcpState::established &&
                   pair.client->state == TcpState::established;
        },
        100));
    CHECK((pair.client_events & kTcpConnected) != 0);
    CHECK((pair.server_events & kTcpConnected) != 0);
}
