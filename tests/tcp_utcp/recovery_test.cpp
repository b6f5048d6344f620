// Fast retransmit and NewReno fast recovery (RFC 5681 3.2, RFC 6582): three duplicate ACKs
// resend the missing segment before the RTO; the full ACK ends recovery.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

TEST_CASE("three duplicate ACKs trigger a fast retransmit, the full ACK ends recovery") {
    Config config = test_config();
    config.sack = false;  // NewReno (RFC 6582); the SACK path is tested in sack_recovery_test
    CorePair pair(config, config);
    REQUIRE(pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    }));
    Tcb& client = *pair.client;
    Tcb& server = *pair.server;
    Time now = pair.now();
    Outputs sent;
    send_1(client, std::vector<std::uint8_t>(8 * 1448, 4), now, sent);
    REQUIRE(sent.segments.size() == 8);
    const SeqNum lost = sent.segments[0].seq;
    const Time rto_deadline = *client.timers.rexmt;

    std::vector<WireSegment> acks;
    for (std::size_t i = 1; i < sent.segments.size(); ++i) {
        Outputs o = deliver_in(server, sent.segments[i], now + 5ms);
        acks.insert(acks.end(), o.segments.begin(), o.segments.end());
    }
    REQUIRE(acks.size() == 7);
    for (const auto& a : acks) CHECK(a.ack == lost);

    std::vector<WireSegment> retransmissions;
    for (std::size_t i = 0; i < acks.size(); ++i) {
        Outputs o = deliver_in(client, acks[i], now + 10ms);
        for (const auto& s : o.segments)
            if (s.seq == lost) retransmissions.push_back(s);
        if (i == 1) CHECK(retransmissions.empty());  // two duplicates are not enough
    }
    REQUIRE(retransmissions.size() == 1);
    CHECK(retransmissions[0].payload.size() == 1448);
    CHECK(now + 10ms < rto_deadline);
    CHECK(client.fast_retransmits == 1);
    CHECK(client.cc.in_recovery());
    CHECK(client.cc.ssthresh() < 8 * 1448);
    CHECK(client.rto_count == 0);

    Outputs full = deliver_in(server, retransmissions[0], now + 15ms);
    CHECK(server.recv_buffer.readable() == 8 * 1448);
    REQUIRE(full.segments.size() == 1);
    deliver_in(client, full.segments[0], now + 20ms);
    CHECK_FALSE(client.cc.in_recovery());
    CHECK(client.snd_una == client.snd_max);
    // RFC 6582 3.2 step 3 option (1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
    CHECK(client.cc.cwnd() == std::min(client.cc.ssthresh(), 2 * client.max_payload()));
}

TEST_CASE("duplicate ACKs after an RTO do not start a second recovery (RFC 6582 step 2)") {
    Config config = test_config();
    config.sack = false;  // NewReno; with SACK and an RTT sample a probe would come first
    CorePair pair(config, config);
    REQUIRE(pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    }));
    Tcb& client = *pair.client;
    Outputs sent;
    send_1(client, std::vector<std::uint8_t>(6 * 1448, 4), pair.now(), sent);
    on_tick(client, *next_deadline(client));  // RTO: recover = SND.MAX
    const SeqNum una = client.snd_una;
    WireSegment dup = peer_segment(client, client.rcv_nxt, una, flag::ack);
    dup.window = static_cast<std::uint16_t>(client.snd_wnd >> client.snd_wscale);
    dup.options.timestamps = wire::TcpTimestamps{client.ts_recent + 1, 0};
    deliver_in(client, dup, pair.now() + 1s);  // may update SND.WND (scaled window rounding)
    const std::uint32_t before = client.dup_acks;
    for (int i = 0; i < 5; ++i) deliver_in(client, dup, pair.now() + 1s);
    CHECK(client.dup_acks == before + 5);
    CHECK(client.fast_retransmits == 0);
}
