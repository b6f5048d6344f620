// Regression tests for the review of the first core: one receive ring (out-of-order data fills
// the window once), the memory footprint of an idle connection, `recover` cleared, payload plus
// options within the MSS, the window edge after a FIN and under window scaling, the handshake
// RTT sample, TS.Recent and timestamp presence (RFC 7323), RST in TIME-WAIT (RFC 1337), the
// RST sequence of abort, RFC 6298 5.7.
#include <catch2/catch.hpp>

#include "core_harness.hpp"
#include "netloom/tcp_common/window.hpp"

using namespace utcp_test;

TEST_CASE("a whole window with its first segment lost is held, not half dropped") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const std::uint32_t window = server.rcv_wnd();
    REQUIRE(window >= 60'000);
    const SeqNum start = server.rcv_nxt;
    std::uint32_t ts = server.ts_recent + 1;
    for (std::uint32_t offset = 1000; offset + 1000 <= window; offset += 1000)
        deliver_in(server, data_from_peer(server, start + offset, 1000, ts++), 1s);
    const std::uint32_t expected = (window / 1000 - 1) * 1000;
    CHECK(server.recv_buffer.out_of_order_bytes() == expected);
    Outputs fill = deliver_in(server, data_from_peer(server, start, 1000, ts++), 1s);
    CHECK(server.rcv_nxt == start + expected + 1000);
    REQUIRE(fill.segments.size() == 1);  // filling the hole is ACKed at once (RFC 5681 4.2)
    CHECK(fill.segments[0].ack == server.rcv_nxt);
}

TEST_CASE("an idle established connection holds at most 640 bytes, also after 1 MiB") {
    CorePair pair = established_pair();
    CHECK(memory_footprint(*pair.client) <= 640);
    CHECK(memory_footprint(*pair.server) <= 640);
    transfer(pair, 1024 * 1024);
    pair.run_until([&] { return pair.client->snd_una == pair.client->snd_max; }, 10'000);
    pair.run_until([&] { return !pair.server->timers.delack; }, 10'000);
    for (const Tcb* tcb : {&*pair.client, &*pair.server}) {
        CHECK(tcb->send_buffer.heap_bytes() == 0);
        CHECK(tcb->recv_buffer.heap_bytes() == 0);
        CHECK_FALSE(tcb->scoreboard);
        CHECK_FALSE(tcb->sack_rx);
        CHECK(memory_footprint(*tcb) <= 640);
    }
    // While data is queued the buffers are counted.
    Outputs out;
    send_1(*pair.client, std::vector<std::uint8_t>(5000, 1), pair.now(), out);
    CHECK(memory_footprint(*pair.client) >= sizeof(Tcb) + 5000);
}

TEST_CASE("recover is cleared once SND.UNA passes it, so a later loss fast-retransmits") {
    Config config = test_config();
    config.sack = false;
    CorePair pair = established_pair(config, config);
    Tcb& client = *pair.client;
    set_nodelay_1(client, true);
    Outputs out;
    send_1(client, std::vector<std::uint8_t>(3 * 1448, 1), pair.now(), out);
    pair.from_client(on_tick(client, *next_deadline(client)));  // RTO: recover = SND.MAX
    REQUIRE(client.recover.has_value());
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return client.snd_una == client.snd_max; }, 1000));
    CHECK_FALSE(client.recover.has_value());
    std::vector<std::uint8_t> drain(8192);
    Outputs ignored;
    CHECK(recv_1(*pair.server, drain, pair.now(), ignored) == 3 * 1448);
    transfer(pair, 256 * 1024);  // lets cwnd grow again after the timeout
    REQUIRE(pair.run_until([&] { return client.snd_una == client.snd_max; }, 1000));
    // New data; the first segment is lost; three duplicate ACKs (ack == the old recover).
    Outputs fresh;
    send_1(client, std::vector<std::uint8_t>(5 * 1448, 2), pair.now(), fresh);
    REQUIRE(fresh.segments.size() >= 4);
    std::vector<WireSegment> acks;
    for (std::size_t i = 1; i < fresh.segments.size(); ++i) {
        Outputs o = deliver_in(*pair.server, fresh.segments[i], pair.now() + 5ms);
        acks.insert(acks.end(), o.segments.begin(), o.segments.end());
    }
    REQUIRE(acks.size() >= 3);
    for (const auto& a : acks) deliver_in(client, a, pair.now() + 10ms);
    CHECK(client.fast_retransmits == 1);
}

TEST_CASE("data segments carrying SACK blocks keep payload + options within the MSS") {
    CorePair pair = established_pair();
    Tcb& client = *pair.client;
    // The client receives out-of-order data, so its segments carry SACK blocks.
    const SeqNum rcv = client.rcv_nxt;
    std::uint32_t ts = client.ts_recent + 1;
    deliver_in(client, data_from_peer(client, rcv + 2000, 100, ts++), pair.now());
    deliver_in(client, data_from_peer(client, rcv + 4000, 100, ts++), pair.now());
    REQUIRE(client.sack_rx);
    Outputs out;
    send_1(client, std::vector<std::uint8_t>(4 * 1460, 3), pair.now(), out);
    REQUIRE_FALSE(out.segments.empty());
    for (const WireSegment s : out.segments) {
        CHECK(s.options.sack_count == 2);
        CHECK(s.payload.size() + s.options.encoded_length() <= client.snd_mss);
    }
    CHECK(out.segments[0].payload_length ==
          client.snd_mss - out.segments[0].options.encoded_length());
}

TEST_CASE("a FIN just past a full window leaves RCV.WND at 0, not 2^32 - 1") {
    Config config = test_config();
    config.rcvbuf = 4000;
    config.window_scaling = false;
    CorePair pair = established_pair(config, config);
    Tcb& server = *pair.server;
    const std::uint32_t window = server.rcv_wnd();
    REQUIRE(window == 4000);
    WireSegment segment = data_from_peer(server, server.rcv_nxt, window, server.ts_recent + 1);
    segment.flags |= flag::fin;
    deliver_in(server, segment, pair.now());
    CHECK(server.fin_received);
    CHECK(server.rcv_wnd() == 0);
    CHECK(server.info().rcv_wnd == 0);
}

TEST_CASE("window scaling rounds the offer down, and data up to the offered edge is kept") {
    Config config = test_config();
    config.rcvbuf = 1'000'001;  // scale 4: 16-byte units; the buffer is not a multiple of 16
    CorePair pair = established_pair(config, config);
    Tcb& server = *pair.server;
    REQUIRE(server.rcv_wscale == 4);
    Outputs out;
    const SeqNum start = server.rcv_nxt;
    send_ack(server, pair.now(), out);
    const std::uint32_t offered = tcp::decode_window(out.segments.at(0).window, 4);
    CHECK(offered <= server.rcv_free());
    CHECK(offered % 16 == 0);
    // The peer fills exactly what it was offered: every byte is accepted.
    std::uint32_t ts = server.ts_recent + 1;
    for (std::uint32_t sent = 0; sent < offered; sent += 1448) {
        const std::uint32_t n = std::min<std::uint32_t>(1448, offered - sent);
        deliver_in(server, data_from_peer(server, start + sent, n, ts++), pair.now());
    }
    CHECK(server.rcv_nxt == start + offered);
    CHECK(tcp::le(start + offered, server.rcv_adv));
}

TEST_CASE(
    "handshake RTT: a bogus echo is not sampled, a retransmitted SYN gives no sample "
    "and RTO 3 s (RFC 6298 5.7)") {
    Config config = test_config();
    SECTION("echo from the future") {
        Outputs out;
        Tcb client = connect_1(config, client_tuple(), 10s, out);
        WireSegment syn_ack =
            peer_segment(client, SeqNum(5000), client.iss + 1, flag::syn | flag::ack, 8192);
        syn_ack.options.timestamps =
            wire::TcpTimestamps{77, out.segments[0].options.timestamps->value + 1'000'000};
        deliver_in(client, syn_ack, 10s + 20ms);
        REQUIRE(client.state == TcpState::established);
        // The SYN went once: its send time gives the exact 20 ms; the bogus echo is not used.
        REQUIRE(client.rto.has_sample());
        CHECK(client.rto.srtt() == 20ms);
    }
    SECTION("no timestamps, SYN retransmitted") {
        config.timestamps = false;
        Outputs out;
        Tcb client = connect_1(config, client_tuple(), 0s, out);
        on_tick(client, *next_deadline(client));  // SYN retransmitted at 1 s
        WireSegment syn_ack =
            peer_segment(client, SeqNum(5000), client.iss + 1, flag::syn | flag::ack, 8192);
        deliver_in(client, syn_ack, 1s + 10ms);
        REQUIRE(client.state == TcpState::established);
        CHECK_FALSE(client.rto.has_sample());  // Karn: which SYN does it answer?
        CHECK(client.rto.rto() == 3s);
    }
}

TEST_CASE("TS.Recent is not taken from a segment that fails the ACK check (RFC 7323 4.3)") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const std::uint32_t before = server.ts_recent;
    WireSegment bad = peer_segment(server, server.rcv_nxt, server.snd_max + 1000, flag::ack);
    bad.options.timestamps = wire::TcpTimestamps{before + 5000, 0};
    deliver_in(server, bad, pair.now());
    CHECK(server.ts_recent == before);
    WireSegment good = peer_segment(server, server.rcv_nxt, server.snd_una, flag::ack);
    good.options.timestamps = wire::TcpTimestamps{before + 10, 0};
    deliver_in(server, good, pair.now());
    CHECK(server.ts_recent == before + 10);
}

TEST_CASE("after timestamps were negotiated a segment without TSopt is dropped, unless RST") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum rcv_nxt = server.rcv_nxt;
    Outputs out = deliver_in(
        server, peer_segment(server, rcv_nxt, server.snd_una, flag::ack, 0xffff, 100), pair.now());
    CHECK(out.segments.empty());
    CHECK(server.rcv_nxt == rcv_nxt);
    deliver_in(server, peer_segment(server, rcv_nxt, SeqNum(0), flag::rst), pair.now());
    CHECK(server.state == TcpState::closed);
}

TEST_CASE("a RST in TIME-WAIT does not end it (RFC 1337)") {
    CorePair pair = established_pair();
    Outputs out;
    close_1(*pair.client, pair.now(), out);
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.server->state == TcpState::close_wait; }, 100));
    Outputs fin;
    close_1(*pair.server, pair.now(), fin);
    pair.from_server(fin);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::time_wait; }, 100));
    Tcb& client = *pair.client;
    deliver_in(client, peer_segment(client, client.rcv_nxt, SeqNum(0), flag::rst), pair.now());
    CHECK(client.state == TcpState::time_wait);
    CHECK(client.timers.time_wait.has_value());
}

TEST_CASE("abort after a timeout sends its RST at SND.MAX, not the rewound SND.NXT") {
    // Without SACK a timeout rewinds SND.NXT (go-back-N); with SACK it no longer does.
    Config config = test_config();
    config.sack = false;
    CorePair pair = established_pair(config, config);
    Tcb& client = *pair.client;
    set_nodelay_1(client, true);
    Outputs out;
    send_1(client, std::vector<std::uint8_t>(3 * 1448, 1), pair.now(), out);
    const SeqNum snd_max = client.snd_max;
    while (client.rto_count == 0) on_tick(client, *next_deadline(client));  // SND.NXT rewinds
    REQUIRE(tcp::lt(client.snd_nxt, client.snd_max));
    Outputs aborted;
    abort_1(client, pair.now(), aborted);
    REQUIRE(aborted.segments.size() == 1);
    CHECK(aborted.segments[0].flags == flag::rst);
    CHECK(aborted.segments[0].seq == snd_max);
}
