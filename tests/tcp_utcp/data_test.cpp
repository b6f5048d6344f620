// Data transfer: in-order delivery and ACKs, out-of-order queue with SACK blocks, PAWS, sequence
// wrap-around, and a bulk transfer over a lossy in-memory network.
#include <catch2/catch.hpp>
#include <numeric>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

/// A data segment to `tcb` from its peer, with a timestamp newer than anything seen.
WireSegment data_to(const Tcb& tcb, SeqNum seq, std::size_t bytes, std::uint32_t tsval) {
    WireSegment segment = peer_segment(tcb, seq, tcb.snd_nxt, flag::ack | flag::psh, 0xffff, bytes);
    std::iota(segment.payload.begin(), segment.payload.end(), std::uint8_t{0});
    if (tcb.ts_ok) segment.options.timestamps = wire::TcpTimestamps{tsval, 0};
    return segment;
}

}  // namespace

TEST_CASE("in-order data is queued, ACKed and readable") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum start = server.rcv_nxt;
    Outputs out = deliver_in(server, data_to(server, start, 1000, server.ts_recent + 1), 1s);
    CHECK(server.rcv_nxt == start + 1000);
    CHECK(server.recv_buffer.readable() == 1000);
    CHECK((out.events & kTcpReadable) != 0);
    // One segment less than two full-sized ones: the ACK is delayed (RFC 1122 4.2.3.2).
    CHECK(out.segments.empty());
    REQUIRE(server.timers.delack.has_value());
    CHECK(*server.timers.delack == 1s + 40ms);
    CHECK(next_deadline(server) == 1s + 40ms);
    Outputs delayed = on_tick(server, 1s + 40ms);
    REQUIRE(delayed.segments.size() == 1);
    CHECK(delayed.segments[0].ack == start + 1000);
    CHECK_FALSE(server.timers.delack.has_value());
    std::array<std::uint8_t, 600> buffer{};
    Outputs read_out;
    CHECK(recv_1(server, buffer, 1s, read_out) == 600);
    CHECK(buffer[10] == 10);
    CHECK(server.recv_buffer.readable() == 400);
}

TEST_CASE("out-of-order data is held, SACKed, and delivered when the hole fills") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum start = server.rcv_nxt;
    std::uint32_t ts = server.ts_recent + 1;
    Outputs gap = deliver_in(server, data_to(server, start + 1000, 500, ts++), 1s);
    CHECK(server.rcv_nxt == start);
    CHECK(server.recv_buffer.readable() == 0);
    REQUIRE(gap.segments.size() == 1);
    CHECK(gap.segments[0].ack == start);  // duplicate ACK (RFC 5681 4.2)
    REQUIRE(gap.segments[0].options.sack_count == 1);
    CHECK(gap.segments[0].options.sack_blocks[0] ==
          wire::TcpSackBlock{(start + 1000).value(), (start + 1500).value()});

    Outputs gap2 = deliver_in(server, data_to(server, start + 2000, 100, ts++), 1s);
    REQUIRE(gap2.segments.at(0).options.sack_count == 2);
    CHECK(gap2.segments[0].options.sack_blocks[0].left == (start + 2000).value());  // newest first

    Outputs fill = deliver_in(server, data_to(server, start, 1000, ts++), 1s);
    CHECK(server.rcv_nxt == start + 1500);
    CHECK(server.recv_buffer.readable() == 1500);
    REQUIRE(fill.segments.size() == 1);
    CHECK(fill.segments[0].ack == start + 1500);
    CHECK(fill.segments[0].options.sack_count == 1);  // only [2000, 2100) remains
}

TEST_CASE("a duplicate segment is D-SACKed at once, in one ACK only (RFC 2883 4)", "[dsack]") {
    const bool sack = GENERATE(true, false);
    Config config = test_config();
    config.sack = sack;
    CorePair pair = established_pair(config, config);
    Tcb& server = *pair.server;
    REQUIRE(server.sack_ok == sack);
    const SeqNum start = server.rcv_nxt;
    std::uint32_t ts = server.ts_recent + 1;
    using Block = wire::TcpSackBlock;
    auto block = [&](std::uint32_t left, std::uint32_t right) {
        return Block{(start + left).value(), (start + right).value()};
    };
    auto blocks = [](const Outputs& out) {
        const auto& o = out.segments.at(0).options;
        return std::vector<Block>(o.sack_blocks.begin(), o.sack_blocks.begin() + o.sack_count);
    };
    CHECK(deliver_in(server, data_to(server, start, 1000, ts++), 1s).segments.empty());  // delayed
    // Wholly below RCV.NXT (4.1.1): ACKed at once, the duplicate in the first block.
    Outputs dup = deliver_in(server, data_to(server, start, 1000, ts++), 1s);
    REQUIRE(dup.segments.size() == 1);
    CHECK(dup.segments[0].ack == start + 1000);
    if (!sack) {
        CHECK(dup.segments[0].options.sack_count == 0);
        return;
    }
    CHECK(blocks(dup) == std::vector<Block>{block(0, 1000)});
    // The next ACK does not repeat it (rule 2).
    Outputs gap = deliver_in(server, data_to(server, start + 2000, 500, ts++), 1s);
    CHECK(blocks(gap) == std::vector<Block>{block(2000, 2500)});
    // A duplicate of data held out of order (4.1.2), then the block that holds it (rule 4).
    Outputs again = deliver_in(server, data_to(server, start + 2100, 200, ts++), 1s);
    REQUIRE(again.segments.size() == 1);
    CHECK(blocks(again) == std::vector<Block>{block(2100, 2300), block(2000, 2500)});
    // Partly old, partly new in-order data: the old part is D-SACKed, and the ACK is not delayed.
    Outputs partial = deliver_in(server, data_to(server, start + 500, 1000, ts++), 1s);
    REQUIRE(partial.segments.size() == 1);
    CHECK(partial.segments[0].ack == start + 1500);
    CHECK(blocks(partial) == std::vector<Block>{block(500, 1000), block(2000, 2500)});
}

TEST_CASE("the client's data is ACKed and its window and timers follow") {
    CorePair pair = established_pair();
    std::vector<std::uint8_t> data(3000, 0xab);
    Outputs out;
    CHECK(send_1(*pair.client, data, pair.now(), out) == 3000);
    // 1448-byte segments (MSS 1460 minus timestamps); Nagle holds the 104-byte tail until
    // the first ACK (RFC 896).
    REQUIRE(out.segments.size() == 2);
    CHECK(out.segments[0].payload_length == 1448);
    CHECK(pair.client->timers.rexmt.has_value());
    pair.from_client(out);
    REQUIRE(pair.run_until([&] { return pair.client->snd_una == pair.client->snd_max; }, 100));
    CHECK(pair.client->send_buffer.empty());
    CHECK_FALSE(pair.client->timers.rexmt.has_value());
    CHECK(pair.server->recv_buffer.readable() == 3000);
}

TEST_CASE("PAWS drops a segment with an old timestamp (RFC 7323 5)") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    REQUIRE(server.ts_ok);
    const SeqNum start = server.rcv_nxt;
    deliver_in(server, data_to(server, start, 100, server.ts_recent + 1000), 1s);
    REQUIRE(server.rcv_nxt == start + 100);
    Outputs old = deliver_in(server, data_to(server, start + 100, 100, server.ts_recent - 1), 1s);
    CHECK(server.rcv_nxt == start + 100);  // not accepted
    REQUIRE(old.segments.size() == 1);
    CHECK(old.segments[0].flags == flag::ack);
    CHECK(old.segments[0].ack == start + 100);
}

TEST_CASE("data outside the receive window is not queued, only ACKed") {
    CorePair pair = established_pair();
    Tcb& server = *pair.server;
    const SeqNum start = server.rcv_nxt;
    Outputs far =
        deliver_in(server, data_to(server, start + 10'000'000, 100, server.ts_recent + 1), 1s);
    CHECK(server.recv_buffer.ranges().empty());
    REQUIRE(far.segments.size() == 1);
    CHECK(far.segments[0].ack == start);
    Outputs old = deliver_in(server, data_to(server, start - 5000, 100, server.ts_recent + 1), 1s);
    CHECK(server.recv_buffer.readable() == 0);
    REQUIRE(old.segments.size() == 1);
}

TEST_CASE("1 MiB across the 2^32 sequence wrap arrives intact") {
    // Pick the start time so the client's ISS lands 300 kB below 2^32 (RFC 6528: M + F).
    const Config config = test_config();
    const std::uint32_t hash = tcp::connection_hash(client_tuple(), config.isn_key);
    const std::uint32_t target = 0u - 300'000u;
    const std::uint32_t ticks = target - hash;
    const Time start{std::int64_t{ticks} * 4000};
    CorePair pair = established_pair(config, config, start);
    const SeqNum iss = pair.client->iss;
    REQUIRE(iss.value() > 0xfff00000u);
    transfer(pair, 1024 * 1024);
    pair.run_until([&] { return pair.client->snd_una == pair.client->snd_max; }, 10'000);
    CHECK(pair.client->snd_una.value() < iss.value());  // wrapped
    CHECK(pair.client->snd_una == iss + 1 + 1024 * 1024);
}

TEST_CASE("1 MiB with 5% seeded loss arrives intact") {
    CorePair pair = established_pair(test_config(), test_config(), Time{0}, 0.05, 42);
    transfer(pair, 1024 * 1024);
    CHECK(pair.dropped > 0);
    CHECK(pair.client->retransmits > 0);
    CHECK(pair.client->fast_retransmits > 0);
}

TEST_CASE("1 MiB with 5% loss, no options (Karn RTT path), CUBIC") {
    Config config = test_config();
    config.timestamps = false;
    config.sack = false;
    config.window_scaling = false;
    config.cubic = true;
    CorePair pair = established_pair(config, config, Time{0}, 0.05, 7);
    CHECK_FALSE(pair.client->ts_ok);
    CHECK(pair.client->cc.name() == "cubic");
    transfer(pair, 1024 * 1024);
    CHECK(pair.client->rto.has_sample());
}

TEST_CASE("the core is deterministic: the same seed gives the same run") {
    auto run = [](std::uint32_t seed) {
        CorePair pair = established_pair(test_config(), test_config(), Time{0}, 0.05, seed);
        transfer(pair, 200 * 1024);
        return std::tuple{pair.now(),
                          pair.client->retransmits,
                          pair.client->segments_sent,
                          pair.server->segments_sent,
                          pair.client->snd_una,
                          pair.dropped};
    };
    const auto first = run(11);
    CHECK(first == run(11));
    CHECK_FALSE(first == run(12));
}
