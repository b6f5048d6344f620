// Regression tests for the tcp_utcp failures found by the packetdrill conformance scripts
// (tests/conformance/*.pkt): the ACK of a segment arriving at a zero window (RFC 9293 3.10.7.4),
// receiver SWS avoidance after a zero window (RFC 9293 3.8.6.2.2) and the delayed ACK a read
// must not swallow when it sends no window update.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

/// An established pair whose server has a 3000-byte receive buffer (no window scaling) and
/// whose client announced MSS 1000: the server's Eff.snd.MSS is 988 with timestamps.
CorePair small_window_pair() {
    Config client_config = test_config();
    client_config.mss = 1000;
    Config server_config = test_config();
    server_config.rcvbuf = 3000;
    server_config.window_scaling = false;
    CorePair pair = established_pair(client_config, server_config);
    REQUIRE(pair.server->max_payload() == 988);
    return pair;
}

/// Fills the server's window of a small_window_pair with three 1000-byte segments.
void fill_server_window(CorePair& pair, std::uint32_t& tsval) {
    Tcb& server = *pair.server;
    for (int i = 0; i < 3; ++i)
        deliver_in(server, data_from_peer(server, server.rcv_nxt, 1000, tsval++), pair.now());
    REQUIRE(server.rcv_wnd() == 0);
}

}  // namespace

TEST_CASE("at a zero window the ACK of a data segment at RCV.NXT is taken, its text dropped") {
    CorePair pair = small_window_pair();
    Tcb& server = *pair.server;
    std::uint32_t ts = server.ts_recent + 1;
    fill_server_window(pair, ts);
    const SeqNum rcv_nxt = server.rcv_nxt;
    Outputs sent;
    REQUIRE(send_1(server, std::vector<std::uint8_t>(100, 7), pair.now(), sent) == 100);
    REQUIRE(server.snd_una != server.snd_nxt);
    // The peer's next data acknowledges our 100 bytes; the window has no room for its text.
    Outputs out = deliver_in(server, data_from_peer(server, rcv_nxt, 100, ts++), pair.now());
    CHECK(server.snd_una == server.snd_nxt);  // RFC 9293 3.10.7.4: the ACK is processed
    CHECK(server.rcv_nxt == rcv_nxt);         // the text is not
    CHECK(server.recv_buffer.readable() == 3000);
    REQUIRE(out.segments.size() == 1);  // and the dropped text is acknowledged
    CHECK(out.segments[0].ack == rcv_nxt);
    CHECK(out.segments[0].window == 0);
    CHECK(out.segments[0].payload_length == 0);
    // A segment past RCV.NXT is still unacceptable: its ACK is not taken.
    send_1(server, std::vector<std::uint8_t>(100, 7), pair.now(), sent);
    const SeqNum una = server.snd_una;
    Outputs later =
        deliver_in(server, data_from_peer(server, rcv_nxt + 100, 100, ts++), pair.now());
    CHECK(server.snd_una == una);
    REQUIRE(later.segments.size() == 1);
    CHECK(later.segments[0].ack == rcv_nxt);
}

TEST_CASE(
    "after a zero window, a read freeing Eff.snd.MSS reopens it at once (RFC 9293 3.8.6.2.2)") {
    // The peer's MSS (1000) is below ours: Eff.snd.MSS is 1000 minus the timestamp option, and
    // min(RCV.BUFF / 2, Eff.snd.MSS) = 988 is the opening that is worth announcing.
    CorePair pair = small_window_pair();
    Tcb& server = *pair.server;
    std::uint32_t ts = server.ts_recent + 1;
    fill_server_window(pair, ts);
    std::vector<std::uint8_t> buffer(1000);
    Outputs small;
    REQUIRE(recv_1(server, std::span(buffer).first(100), pair.now(), small) == 100);
    CHECK(small.segments.empty());  // 100 bytes: silly window, the edge stays
    CHECK(server.rcv_wnd() == 0);
    Outputs enough;
    REQUIRE(recv_1(server, buffer, pair.now(), enough) == 1000);
    REQUIRE(enough.segments.size() == 1);  // 1100 bytes free >= 988: a window update
    CHECK(enough.segments[0].window == 1100);
    CHECK(enough.segments[0].ack == server.rcv_nxt);
    CHECK(server.rcv_wnd() == 1100);
}

TEST_CASE("a read that does not reopen the window leaves the delayed ACK owed") {
    CorePair pair = small_window_pair();
    Tcb& server = *pair.server;
    std::uint32_t ts = server.ts_recent + 1;
    deliver_in(server, data_from_peer(server, server.rcv_nxt, 988, ts++), pair.now());
    deliver_in(server, data_from_peer(server, server.rcv_nxt, 988, ts++), pair.now());
    REQUIRE(server.last_ack_sent == server.rcv_nxt);  // two full segments: ACKed at once
    const std::uint64_t sent_before = server.segments_sent;
    deliver_in(server, data_from_peer(server, server.rcv_nxt, 500, ts++), pair.now());
    REQUIRE(server.timers.delack.has_value());  // one small segment: its ACK is delayed
    REQUIRE(server.rcv_wnd() < server.max_payload());
    std::vector<std::uint8_t> buffer(100);
    Outputs out;
    REQUIRE(recv_1(server, buffer, pair.now(), out) == 100);
    CHECK(out.segments.empty());  // 100 bytes: no window update (SWS avoidance)
    // Nothing was sent, so the ACK is still owed and its timer still runs.
    CHECK(server.timers.delack.has_value());
    CHECK(server.last_ack_sent != server.rcv_nxt);
    CHECK(server.segments_sent == sent_before);
}

TEST_CASE(
    "a read that moves the right edge by Eff.snd.MSS announces it although the window was "
    "still open (RFC 813, RFC 5681 4.2), so the next ACK can count as a duplicate") {
    CorePair pair = small_window_pair();
    Tcb& server = *pair.server;
    std::uint32_t ts = server.ts_recent + 1;
    deliver_in(server, data_from_peer(server, server.rcv_nxt, 988, ts++), pair.now());
    deliver_in(server, data_from_peer(server, server.rcv_nxt, 988, ts++), pair.now());
    REQUIRE(server.last_ack_sent == server.rcv_nxt);  // two full segments: ACKed at once
    REQUIRE(server.rcv_wnd() == 3000 - 2 * 988);      // open: more than Eff.snd.MSS left
    std::vector<std::uint8_t> buffer(2 * 988);
    Outputs out;
    REQUIRE(recv_1(server, buffer, pair.now(), out) == 2 * 988);
    // Without this update the edge would move on the next ACK, whose changed window makes it
    // no duplicate (RFC 5681 2, condition e) if it is the first one after a loss.
    REQUIRE(out.segments.size() == 1);
    CHECK(out.segments[0].window == 3000);
    CHECK(out.segments[0].ack == server.rcv_nxt);
    CHECK(server.rcv_wnd() == 3000);
    Outputs small;
    REQUIRE(recv_1(server, buffer, pair.now(), small) == 0);
    CHECK(small.segments.empty());  // nothing read, nothing to announce
}
