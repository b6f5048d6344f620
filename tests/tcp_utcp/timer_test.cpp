// Timers: SYN and data retransmission with exponential backoff, give-up -> timed_out,
// connection-establishment deadline.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

TEST_CASE("SYN retransmits with backoff, then gives up with timed_out") {
    Config config = test_config();
    config.max_syn_retransmits = 3;
    config.connect_timeout = 1h;
    Outputs out;
    Tcb client = connect_1(config, client_tuple(), 0s, out);
    std::vector<Time> fired;
    Outputs last;
    for (int i = 0; i < 10 && client.state == TcpState::syn_sent; ++i) {
        const Time when = *next_deadline(client);
        last = on_tick(client, when);
        fired.push_back(when);
        if (client.state == TcpState::syn_sent) {
            REQUIRE(last.segments.size() == 1);
            CHECK(last.segments[0].flags == flag::syn);
            CHECK(last.segments[0].seq == client.iss);
        }
    }
    REQUIRE(fired.size() == 4);
    CHECK(fired[0] == 1s);  // RFC 6298 2.1 initial RTO
    CHECK(fired[1] - fired[0] == 2s);
    CHECK(fired[2] - fired[1] == 4s);
    CHECK(client.state == TcpState::closed);
    CHECK(client.error == TcpError::timed_out);
    CHECK(last.error == TcpError::timed_out);
    CHECK((last.events & kTcpError) != 0);
}

TEST_CASE("connection-establishment deadline aborts a handshake") {
    Config config = test_config();
    config.connect_timeout = 2500ms;
    Outputs out;
    Tcb client = connect_1(config, client_tuple(), 0s, out);
    Outputs all;
    while (client.state == TcpState::syn_sent) {
        const Time when = *next_deadline(client);
        all = on_tick(client, when);
        REQUIRE(when <= 3s);
    }
    CHECK(client.error == TcpError::timed_out);
}

TEST_CASE("data retransmission goes back to SND.UNA, backs off, and gives up") {
    Config config = test_config();
    config.max_retransmits = 4;
    config.sack = false;  // the RTO alone: with SACK and an RTT sample a probe comes first
    CorePair pair(config, config);
    REQUIRE(pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    }));
    Tcb& client = *pair.client;
    Outputs out;
    send_1(client, std::vector<std::uint8_t>(3000, 9), pair.now(), out);  // "lost": not delivered
    REQUIRE(out.segments.size() == 2);  // Nagle holds the last 104 bytes (RFC 896)
    const std::uint32_t cwnd_before = client.cc.cwnd();
    Time previous = pair.now();
    Time previous_gap{0};
    int timeouts = 0;
    while (client.state == TcpState::established) {
        const Time when = *next_deadline(client);
        Outputs fired = on_tick(client, when);
        if (client.state != TcpState::established) break;
        ++timeouts;
        REQUIRE(fired.segments.size() == 1);  // cwnd collapsed to one segment (RFC 5681 3.1)
        CHECK(fired.segments[0].seq == client.snd_una);
        CHECK(fired.segments[0].payload_length == 1448);
        CHECK(client.cc.cwnd() < cwnd_before);
        const Time gap = when - previous;
        if (timeouts > 1) CHECK(gap == 2 * previous_gap);  // RFC 6298 5.5
        previous_gap = gap;
        previous = when;
    }
    CHECK(timeouts == 4);
    CHECK(client.error == TcpError::timed_out);
    CHECK(client.retransmits == 4);
}

TEST_CASE("an ACK after a timeout resumes sending and clears the give-up count") {
    Config config = test_config();
    config.sack = false;  // the RTO alone: with SACK and an RTT sample a probe comes first
    CorePair pair(config, config);
    REQUIRE(pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    }));
    Tcb& client = *pair.client;
    Outputs out;
    send_1(client, std::vector<std::uint8_t>(3000, 9), pair.now(), out);
    Outputs fired = on_tick(client, *next_deadline(client));
    CHECK(client.rexmt_count == 1);
    pair.from_client(fired);
    REQUIRE(pair.run_until([&] { return client.snd_una == client.snd_max; }, 1000));
    CHECK(client.rexmt_count == 0);
    CHECK(pair.server->recv_buffer.readable() == 3000);
}

TEST_CASE("with timestamps, a sub-millisecond RTT is measured from send times, not the ms echo") {
    CorePair pair(test_config(), test_config());  // 10 ms RTT for the handshake
    REQUIRE(pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    }));
    Tcb& client = *pair.client;
    REQUIRE(client.ts_ok);
    // Then each exchange takes 150 us: the timestamp clock (1 ms ticks) would say 0 ms.
    Time t = pair.now();
    for (int round = 0; round < 40; ++round) {
        t += 10ms;
        Outputs out;
        send_1(client, std::vector<std::uint8_t>(1000, 1), t, out);
        REQUIRE(out.segments.size() == 1);
        WireSegment ack = peer_segment(client, client.rcv_nxt, client.snd_max, flag::ack);
        ack.window = static_cast<std::uint16_t>(client.snd_wnd >> client.snd_wscale);
        ack.options.timestamps =
            wire::TcpTimestamps{client.ts_recent + 1, out.segments[0].options.timestamps->value};
        deliver_in(client, ack, t + 150us);
        REQUIRE(client.snd_una == client.snd_max);
    }
    // SRTT after 40 samples of 150 us from 10 ms: ~197 us (the 0 ms echoes would give ~48 us).
    CHECK(client.rto.srtt() > 140us);
    CHECK(client.rto.srtt() < 260us);
}
