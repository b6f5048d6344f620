// Persist timer and zero-window probes with backoff (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17), the
// FIN-WAIT-2 timeout, keepalive (RFC 1122 4.2.3.6), delayed ACK (RFC 1122 4.2.3.2, RFC 5681
// 4.2), Nagle / nodelay (RFC 896), ICMP (RFC 5927, 1122 4.2.3.9, 1191), TIME-WAIT reuse by a
// new SYN (RFC 6191), the PAWS idle rule (RFC 7323 5.5) and TcpInfo.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

WireSegment ack_from_peer(const Tcb& tcb, SeqNum ack, std::uint16_t window, std::size_t payload = 0,
                          std::uint32_t ts_step = 1) {
    WireSegment segment = peer_segment(tcb, tcb.rcv_nxt, ack, flag::ack, window, payload);
    if (tcb.ts_ok) segment.options.timestamps = wire::TcpTimestamps{tcb.ts_recent + ts_step, 0};
    return segment;
}

}  // namespace

TEST_CASE("a zero window is probed with one byte, with exponential backoff, until it opens") {
    CorePair pair = established_pair();
    Tcb& client = *pair.client;
    set_nodelay_1(client, true);
    Outputs out;
    Time now = pair.now();
    // The peer closes its window, acknowledging everything so far.
    deliver_in(client, ack_from_peer(client, client.snd_max, 0), now);
    REQUIRE(client.snd_wnd == 0);
    send_1(client, std::vector<std::uint8_t>(5000, 7), now, out);
    CHECK(out.segments.empty());
    REQUIRE(client.timers.persist.has_value());
    CHECK_FALSE(client.timers.rexmt.has_value());
    std::vector<Time> probes;
    for (int i = 0; i < 4; ++i) {
        now = *client.timers.persist;
        Outputs fired = on_tick(client, now);
        REQUIRE(fired.segments.size() == 1);
        CHECK(fired.segments[0].payload_length == 1);
        CHECK(fired.segments[0].seq == client.snd_una);
        probes.push_back(now);
        // The peer answers each probe with its zero window: not a duplicate ACK, no give-up.
        deliver_in(client, ack_from_peer(client, client.snd_una, 0, 0, i + 2), now + 5ms);
        CHECK(client.dup_acks == 0);
        CHECK(client.state == TcpState::established);
    }
    CHECK(probes[2] - probes[1] == 2 * (probes[1] - probes[0]));
    CHECK(probes[3] - probes[2] == 2 * (probes[2] - probes[1]));
    // The window opens: sending resumes at once and the persist timer stops.
    Outputs opened =
        deliver_in(client, ack_from_peer(client, client.snd_una, 0xffff, 0, 9), now + 10ms);
    CHECK_FALSE(opened.segments.empty());
    CHECK_FALSE(client.timers.persist.has_value());
    CHECK(client.persist_backoff == 0);
}

TEST_CASE("FIN-WAIT-2 times out only after a full close") {
    Config config = test_config();
    config.fin_wait_2_timeout = 30s;
    SECTION("close: the timer runs") {
        CorePair pair = established_pair(config, config);
        Outputs out;
        close_1(*pair.client, pair.now(), out);
        pair.from_client(out);
        REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::fin_wait_2; }, 100));
        REQUIRE(pair.client->timers.fin_wait_2.has_value());
        const Time entered = pair.now();
        REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::closed; }, 1000));
        CHECK(pair.now() - entered <= 30s);
        CHECK(pair.now() - entered >= 29s);
        CHECK(pair.client->error == TcpError::none);
    }
    SECTION("shutdown: the user still reads, no timer") {
        CorePair pair = established_pair(config, config);
        Outputs out;
        shutdown_1(*pair.client, pair.now(), out);
        pair.from_client(out);
        REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::fin_wait_2; }, 100));
        CHECK_FALSE(pair.client->timers.fin_wait_2.has_value());
        Outputs later;
        close_1(*pair.client, pair.now(), later);  // now closed both ways: the timer starts
        CHECK(pair.client->timers.fin_wait_2.has_value());
    }
}

TEST_CASE("delayed ACK: every second full-sized segment, out-of-order and hole-filling at once") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum start = server.rcv_nxt;
    const Time now = pair.now();
    auto data = [&](SeqNum seq, std::uint32_t ts) {
        WireSegment s = peer_segment(server, seq, server.snd_nxt, flag::ack, 0xffff, 1448);
        s.options.timestamps = wire::TcpTimestamps{ts, 0};
        return s;
    };
    std::uint32_t ts = server.ts_recent + 1;
    CHECK(deliver_in(server, data(start, ts++), now).segments.empty());
    Outputs second = deliver_in(server, data(start + 1448, ts++), now);
    REQUIRE(second.segments.size() == 1);
    CHECK(second.segments[0].ack == start + 2 * 1448);
    CHECK_FALSE(server.timers.delack.has_value());
    Outputs gap = deliver_in(server, data(start + 4 * 1448, ts++), now);
    REQUIRE(gap.segments.size() == 1);  // out of order: duplicate ACK at once
    CHECK(gap.segments[0].ack == start + 2 * 1448);
    Outputs fill = deliver_in(server, data(start + 2 * 1448, ts++), now);
    REQUIRE(fill.segments.size() == 1);  // fills part of the hole: at once
    CHECK(fill.segments[0].ack == start + 3 * 1448);
    Config off = test_config();
    off.delayed_ack = false;
    CorePair eager = established_pair(off, off);
    WireSegment one = peer_segment(*eager.server, eager.server->rcv_nxt, eager.server->snd_nxt,
                                   flag::ack, 0xffff, 100);
    one.options.timestamps = wire::TcpTimestamps{eager.server->ts_recent + 1, 0};
    CHECK(deliver_in(*eager.server, one, eager.now()).segments.size() == 1);
}

TEST_CASE("Nagle holds a small segment while data is unacknowledged, nodelay sends it") {
    for (const bool nodelay : {false, true}) {
        CorePair pair = established_pair();
        Tcb& client = *pair.client;
        set_nodelay_1(client, nodelay);
        Outputs first, second;
        send_1(client, std::vector<std::uint8_t>(100, 1), pair.now(), first);
        CHECK(first.segments.size() == 1);  // nothing unacknowledged: it goes
        send_1(client, std::vector<std::uint8_t>(100, 2), pair.now(), second);
        CHECK(second.segments.size() == (nodelay ? 1u : 0u));
        if (!nodelay) {
            Outputs acked = deliver_in(client, ack_from_peer(client, client.snd_max, 0xffff),
                                       pair.now() + 10ms);
            REQUIRE(acked.segments.size() == 1);  // the ACK releases it
            CHECK(acked.segments[0].payload_length == 100);
        }
    }
}

TEST_CASE("keepalive probes an idle connection and gives up with timed_out") {
    Config config = test_config();
    config.keepalive = true;
    config.keepalive_idle = 10s;
    config.keepalive_interval = 2s;
    config.keepalive_count = 3;
    CorePair pair = established_pair(config, test_config());
    Tcb& client = *pair.client;
    REQUIRE(client.timers.keepalive.has_value());
    const Time idle_from = pair.now();
    // Answered: the peer ACKs the probe and the idle period starts over.
    REQUIRE(pair.run_until([&] { return client.unanswered_probes == 1; }, 100));
    CHECK(pair.now() - idle_from >= 10s - 10ms);  // idle since the last segment it received
    REQUIRE(pair.run_until([&] { return client.unanswered_probes == 0; }, 100));
    CHECK(*client.timers.keepalive >= pair.now() + 9s);
    // Unanswered: the peer is gone.
    Time now = pair.now();
    Outputs last;
    int probes = 0;
    while (client.state == TcpState::established) {
        now = *next_deadline(client);
        last = on_tick(client, now);
        if (!last.segments.empty()) {
            ++probes;
            CHECK(last.segments[0].seq == client.snd_una - 1);
            CHECK(last.segments[0].payload_length == 0);
        }
    }
    CHECK(probes == 3);
    CHECK(client.error == TcpError::timed_out);
    CHECK(last.error == TcpError::timed_out);
}

TEST_CASE("ICMP: sequence check, hard errors while opening, soft errors on give-up, PMTU") {
    Config config = test_config();
    config.max_syn_retransmits = 1;
    Outputs out;
    Tcb opening = connect_1(config, client_tuple(), 0s, out);
    deliver_icmp(opening, 3, 3, opening.iss + 1000, 0, 1ms, out);  // not in flight: ignored
    CHECK(opening.state == TcpState::syn_sent);
    Outputs refused;
    deliver_icmp(opening, 3, 3, opening.iss, 0, 1ms, refused);  // port unreachable
    CHECK(opening.state == TcpState::closed);
    CHECK(refused.error == TcpError::refused);  // ECONNREFUSED, like a RST (and Linux)
    Tcb no_protocol = connect_1(config, client_tuple(), 0s, out);
    Outputs refused_too;
    deliver_icmp(no_protocol, 3, 2, no_protocol.iss, 0, 1ms, refused_too);  // protocol unreachable
    CHECK(no_protocol.state == TcpState::closed);
    CHECK(refused_too.error == TcpError::refused);

    Tcb soft = connect_1(config, client_tuple(), 0s, out);
    deliver_icmp(soft, 3, 1, soft.iss, 0, 1ms, out);  // host unreachable: soft
    CHECK(soft.state == TcpState::syn_sent);
    Outputs gave_up;
    while (soft.state == TcpState::syn_sent) gave_up = on_tick(soft, *next_deadline(soft));
    CHECK(soft.error == TcpError::unreachable);

    CorePair pair = established_pair();
    Tcb& client = *pair.client;
    set_nodelay_1(client, true);
    Outputs sent;
    send_1(client, std::vector<std::uint8_t>(3000, 1), pair.now(), sent);
    Outputs resent;
    deliver_icmp(client, 3, 4, client.snd_una, 1000, pair.now(), resent);  // frag. needed
    CHECK(client.snd_mss == 960);
    REQUIRE_FALSE(resent.segments.empty());
    CHECK(resent.segments[0].seq == client.snd_una);
    CHECK(resent.segments[0].payload_length + resent.segments[0].options.encoded_length() <= 960);
    deliver_icmp(client, 3, 4, client.snd_una, 200, pair.now(), resent);
    CHECK(client.snd_mss == 536);  // never below 536
    deliver_icmp(client, 3, 4, client.snd_una, 40, pair.now(), resent);
    CHECK(client.snd_mss == 536);  // an MTU below 68 is bogus
    deliver_icmp(client, 3, 3, client.snd_una, 0, pair.now(), resent);
    CHECK(client.state == TcpState::established);  // hard error, synchronized: soft
    CHECK(client.soft_error == TcpError::unreachable);
}

TEST_CASE("TIME-WAIT accepts a new SYN with a newer timestamp or a higher SEQ (RFC 6191)") {
    CorePair pair = established_pair();
    Outputs out;
    close_1(*pair.client, pair.now(), out);
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.server->state == TcpState::close_wait; }, 100));
    Outputs fin;
    close_1(*pair.server, pair.now(), fin);
    pair.from_server(fin);
    REQUIRE(pair.run_until([&] { return pair.client->state == TcpState::time_wait; }, 100));
    const Tcb& tw = *pair.client;
    WireSegment syn = peer_segment(tw, tw.rcv_nxt + 1000, SeqNum(0), flag::syn);
    syn.options.timestamps = wire::TcpTimestamps{tw.ts_recent + 1, 0};
    CHECK(time_wait_accepts_syn(tw, syn));
    syn.options.timestamps = wire::TcpTimestamps{tw.ts_recent - 1, 0};
    CHECK_FALSE(time_wait_accepts_syn(tw, syn));
    syn.options.timestamps.reset();
    CHECK(time_wait_accepts_syn(tw, syn));
    syn.seq = tw.rcv_nxt - 1;
    CHECK_FALSE(time_wait_accepts_syn(tw, syn));
    CHECK_FALSE(time_wait_accepts_syn(*pair.server, syn));  // not in TIME-WAIT
}

TEST_CASE("PAWS does not reject after 24 days of idleness (RFC 7323 5.5)") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    WireSegment old = peer_segment(server, server.rcv_nxt, server.snd_una, flag::ack, 0xffff, 10);
    old.options.timestamps = wire::TcpTimestamps{server.ts_recent - 100, 0};
    deliver_in(server, old, pair.now() + 1h);
    CHECK(server.recv_buffer.readable() == 0);  // rejected
    deliver_in(server, old, pair.now() + std::chrono::hours(24 * 25));
    CHECK(server.recv_buffer.readable() == 10);  // accepted
    CHECK(server.ts_recent == old.options.timestamps->value);
}

TEST_CASE("TcpInfo reports byte and duplicate-ACK counters") {
    CorePair pair = established_pair();
    transfer(pair, 100'000);
    pair.run_until([&] { return pair.client->snd_una == pair.client->snd_max; }, 10'000);
    const netloom::TcpInfo client = pair.client->info();
    const netloom::TcpInfo server = pair.server->info();
    CHECK(client.bytes_acked == 100'000);
    CHECK(client.bytes_sent >= 100'000);
    CHECK(server.bytes_received == 100'000);
    CHECK(client.sack_enabled);
    CHECK(client.segments_sent > 0);
    CHECK(server.rcv_wnd > 0);
}
