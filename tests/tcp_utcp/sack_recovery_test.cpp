// SACK-based loss recovery (RFC 6675) on the send side: entry on three duplicate ACKs carrying
// SACK blocks, retransmission of the holes only (not of SACKed data), exit at RecoveryPoint,
// separate counters; and CorePair runs with loss (and reordering) comparing SACK with NewReno.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

struct RunFigures {
    Time elapsed{0};
    std::uint64_t rtos = 0, fast = 0, sack = 0, retransmits = 0;
    std::size_t dropped = 0;
};

/// 1 MiB client -> server through a lossy (optionally reordering) pair; checks the bytes.
RunFigures lossy_run(bool sack, double loss, double reorder, std::uint32_t seed) {
    Config config = test_config();
    config.sack = sack;
    CorePair pair = established_pair(config, config, Time{0}, loss, seed, reorder);
    const Time start = pair.now();
    const auto received = transfer(pair, 1024 * 1024);
    REQUIRE(received.size() == 1024 * 1024);
    RunFigures figures;
    figures.elapsed = pair.now() - start;
    figures.rtos = pair.client->rto_count;
    figures.fast = pair.client->fast_retransmits;
    figures.sack = pair.client->sack_recoveries;
    figures.retransmits = pair.client->retransmits;
    figures.dropped = pair.dropped;
    CHECK(pair.client->sack_ok == sack);
    return figures;
}

std::string describe(const char* name, const RunFigures& f) {
    return std::string(name) + ": " +
           std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(f.elapsed).count()) +
           " ms virtual, RTOs " + std::to_string(f.rtos) + ", fast recoveries " +
           std::to_string(f.fast) + " (SACK " + std::to_string(f.sack) + "), retransmits " +
           std::to_string(f.retransmits) + ", dropped " + std::to_string(f.dropped);
}

}  // namespace

TEST_CASE("SACK recovery resends only the holes and ends at RecoveryPoint (RFC 6675)") {
    CorePair pair = established_pair();
    Tcb& client = *pair.client;
    Tcb& server = *pair.server;
    REQUIRE(client.sack_ok);
    const Time now = pair.now();
    Outputs sent;
    set_nodelay_1(client, true);
    send_1(client, std::vector<std::uint8_t>(10 * 1448, 4), now, sent);
    REQUIRE(sent.segments.size() == 10);
    // Segments 0 and 4 are lost; the rest arrive and each is ACKed at once with SACK blocks.
    std::vector<WireSegment> acks;
    for (std::size_t i = 0; i < sent.segments.size(); ++i) {
        if (i == 0 || i == 4) continue;
        Outputs o = deliver_in(server, sent.segments[i], now + 5ms);
        REQUIRE(o.segments.size() == 1);
        CHECK(o.segments[0].options.sack_count > 0);
        acks.push_back(o.segments[0]);
    }
    std::vector<WireSegment> retransmitted;
    for (std::size_t i = 0; i < acks.size(); ++i) {
        Outputs o = deliver_in(client, acks[i], now + 10ms);
        retransmitted.insert(retransmitted.end(), o.segments.begin(), o.segments.end());
        if (i < 2) CHECK(retransmitted.empty());
    }
    CHECK(client.sack_recoveries == 1);
    CHECK(client.fast_retransmits == 1);
    CHECK(client.in_sack_recovery());
    CHECK(client.rto_count == 0);
    // The two holes were resent (the second once IsLost said so), and at most one rescue
    // retransmission (RFC 6675 rule 4) of the highest then-unSACKed segment; nothing SACKed.
    REQUIRE(retransmitted.size() >= 2);
    REQUIRE(retransmitted.size() <= 3);
    CHECK(retransmitted[0].seq == sent.segments[0].seq);
    CHECK(retransmitted[1].seq == sent.segments[4].seq);
    if (retransmitted.size() == 3) CHECK(retransmitted[2].seq == sent.segments[9].seq);
    for (const auto& s : retransmitted) CHECK(s.payload.size() == 1448);

    Outputs fill0 = deliver_in(server, retransmitted[0], now + 15ms);
    Outputs fill4 = deliver_in(server, retransmitted[1], now + 15ms);
    CHECK(server.recv_buffer.readable() == 10 * 1448);
    REQUIRE(fill0.segments.size() == 1);  // a segment filling a hole is ACKed at once
    REQUIRE(fill4.segments.size() == 1);
    deliver_in(client, fill0.segments[0], now + 20ms);
    CHECK(client.cc.in_recovery());  // partial ACK: below RecoveryPoint
    deliver_in(client, fill4.segments[0], now + 20ms);
    CHECK_FALSE(client.cc.in_recovery());
    CHECK(client.snd_una == client.snd_max);
    CHECK(client.cc.cwnd() == client.cc.ssthresh());  // RFC 6675: cwnd = ssthresh on exit
    CHECK_FALSE(client.scoreboard);                   // nothing left to track: freed
    CHECK_FALSE(client.recover);
}

TEST_CASE("lossy transfers: SACK recovery needs far fewer RTOs than NewReno") {
    struct Case {
        double loss, reorder;
        std::uint32_t seed;
    };
    for (const Case c :
         {Case{0.05, 0.0, 42}, Case{0.05, 0.0, 7}, Case{0.10, 0.05, 42}, Case{0.10, 0.05, 9}}) {
        const RunFigures sack = lossy_run(true, c.loss, c.reorder, c.seed);
        const RunFigures newreno = lossy_run(false, c.loss, c.reorder, c.seed);
        INFO("loss " << c.loss << ", reorder " << c.reorder << ", seed " << c.seed);
        INFO(describe("SACK", sack));
        INFO(describe("NewReno", newreno));
        WARN(describe("SACK", sack) << " | " << describe("NewReno", newreno));
        CHECK(sack.sack > 0);
        CHECK(newreno.sack == 0);
        CHECK(newreno.fast > 0);
        CHECK(sack.rtos * 2 <= newreno.rtos);
        // Where NewReno needed no RTO either (5 % loss), both recover in about the same time.
        if (newreno.rtos > 0) CHECK(sack.elapsed < newreno.elapsed);
    }
}
