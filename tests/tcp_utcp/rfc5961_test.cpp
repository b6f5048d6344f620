// RFC 5961 and hostile input: RST exact match vs in-window challenge ACK, SYN in synchronized
// states, ACK of unsent data and too-old ACKs, challenge-ACK rate limit, nonsense flag sets.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

WireSegment from_peer(const Tcb& tcb, SeqNum seq, SeqNum ack, std::uint8_t flags,
                      std::size_t payload = 0) {
    WireSegment segment = peer_segment(tcb, seq, ack, flags, 0xffff, payload);
    if (tcb.ts_ok && !(flags & flag::rst))
        segment.options.timestamps = wire::TcpTimestamps{tcb.ts_recent + 1, 0};
    return segment;
}

}  // namespace

TEST_CASE("RST: exact match resets, in-window gets a challenge ACK, outside is ignored") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const Time now = pair.now();
    Outputs in_window =
        deliver_in(server, from_peer(server, server.rcv_nxt + 100, SeqNum(0), flag::rst), now);
    CHECK(server.state == TcpState::established);
    REQUIRE(in_window.segments.size() == 1);
    CHECK(in_window.segments[0].flags == flag::ack);
    CHECK(in_window.segments[0].seq == server.snd_nxt);
    CHECK(in_window.segments[0].ack == server.rcv_nxt);

    Outputs outside = deliver_in(
        server, from_peer(server, server.rcv_nxt + 1'000'000, SeqNum(0), flag::rst), now);
    CHECK(server.state == TcpState::established);
    CHECK(outside.segments.empty());

    Outputs exact =
        deliver_in(server, from_peer(server, server.rcv_nxt, SeqNum(0), flag::rst), now);
    CHECK(server.state == TcpState::closed);
    CHECK(server.error == TcpError::reset);
    CHECK(exact.error == TcpError::reset);
    CHECK(exact.segments.empty());
}

TEST_CASE("SYN in a synchronized state gets a challenge ACK, not a reset (RFC 5961 4)") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum rcv_nxt = server.rcv_nxt;
    Outputs out = deliver_in(server, from_peer(server, rcv_nxt, SeqNum(0), flag::syn), pair.now());
    CHECK(server.state == TcpState::established);
    REQUIRE(out.segments.size() == 1);
    CHECK(out.segments[0].flags == flag::ack);
    CHECK(out.segments[0].ack == rcv_nxt);
    // SYN+FIN with data is treated the same way, and nothing is queued.
    Outputs weird = deliver_in(
        server, from_peer(server, rcv_nxt, server.snd_nxt, flag::syn | flag::fin | flag::ack, 50),
        pair.now());
    CHECK(server.state == TcpState::established);
    CHECK(server.recv_buffer.readable() == 0);
    CHECK(server.rcv_nxt == rcv_nxt);
}

TEST_CASE("ACK of unsent data and too-old ACKs are answered and dropped (RFC 5961 5.2)") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum una = server.snd_una;
    Outputs unsent = deliver_in(
        server, from_peer(server, server.rcv_nxt, una + 5000, flag::ack, 100), pair.now());
    CHECK(server.snd_una == una);
    CHECK(server.recv_buffer.readable() == 0);  // the whole segment is dropped
    REQUIRE(unsent.segments.size() == 1);
    CHECK(unsent.segments[0].ack == server.rcv_nxt);

    Outputs ancient = deliver_in(
        server, from_peer(server, server.rcv_nxt, una - 0x40000000u, flag::ack, 100), pair.now());
    CHECK(server.snd_una == una);
    CHECK(server.recv_buffer.readable() == 0);
    CHECK(ancient.segments.size() == 1);

    // An old but acceptable ACK (within MAX.SND.WND) still delivers its data.
    Outputs old_ok =
        deliver_in(server, from_peer(server, server.rcv_nxt, una - 10, flag::ack, 100), pair.now());
    CHECK(server.recv_buffer.readable() == 100);
    CHECK(server.snd_una == una);
}

TEST_CASE("every challenge ACK is marked for the shell's engine-wide budget (RFC 5961 7)") {
    Config config = test_config();
    config.challenge_ack_limit = 3;
    CorePair pair = established_pair(config, config);
    Tcb& server = *pair.server;
    const Time now = pair.now() + 10s;
    const SeqNum last_ack_sent = server.last_ack_sent;
    for (int i = 0; i < 10; ++i) {
        const Outputs out =
            deliver_in(server, from_peer(server, server.rcv_nxt + 10, SeqNum(0), flag::rst), now);
        REQUIRE(out.segments.size() == 1);
        CHECK(out.segments[0].challenge_ack);
        CHECK((out.notes & kNoteChallengeAck) != 0);
    }
    // The shell may drop it: it does not count as the ACK we owe.
    CHECK(server.last_ack_sent == last_ack_sent);
    CHECK(server.state == TcpState::established);
    // An ordinary ACK is not marked.
    const Outputs out =
        deliver_in(server, from_peer(server, server.rcv_nxt, server.snd_nxt, flag::ack, 100), now);
    for (const WireSegment segment : out.segments) CHECK_FALSE(segment.challenge_ack);
}

TEST_CASE("hostile segments never crash and never move state out of the window") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum rcv_nxt = server.rcv_nxt;
    const SeqNum una = server.snd_una;
    const std::uint8_t flag_sets[] = {0,
                                      flag::fin,
                                      flag::syn | flag::fin,
                                      flag::syn | flag::rst,
                                      flag::rst | flag::fin,
                                      flag::urg | flag::ack,
                                      0xff};
    const std::uint32_t offsets[] = {0x80000000u, 0xfffffff0u, 70000u, 0x7fffffffu};
    for (std::uint8_t flags : flag_sets) {
        for (std::uint32_t offset : offsets) {
            WireSegment s = from_peer(server, rcv_nxt + offset, una + offset, flags, 10);
            deliver_in(server, s, pair.now());
            CHECK(server.state == TcpState::established);
            CHECK(server.rcv_nxt == rcv_nxt);
            CHECK(server.snd_una == una);
        }
    }
    // A segment without ACK at the right sequence number is dropped (RFC 9293 "fifth").
    deliver_in(server, from_peer(server, rcv_nxt, SeqNum(0), 0, 10), pair.now());
    CHECK(server.recv_buffer.readable() == 0);
}

TEST_CASE("SYN-RECEIVED: a bad ACK gets a RST, an exact RST drops the embryonic connection") {
    Config config = test_config();
    Outputs out;
    Tcb client = connect_1(config, client_tuple(), 0s, out);
    Outputs server_out;
    std::optional<Tcb> server =
        deliver_in_1(Listener{config, 80}, server_tuple(), out.segments.at(0), 1ms, server_out);
    REQUIRE(server);
    Outputs bad =
        deliver_in(*server, from_peer(*server, server->rcv_nxt, server->iss + 99, flag::ack), 2ms);
    CHECK(server->state == TcpState::syn_received);
    REQUIRE(bad.segments.size() == 1);
    CHECK(bad.segments[0].flags == flag::rst);
    CHECK(bad.segments[0].seq == server->iss + 99);
    deliver_in(*server, from_peer(*server, server->rcv_nxt, SeqNum(0), flag::rst), 3ms);
    CHECK(server->state == TcpState::closed);
}
