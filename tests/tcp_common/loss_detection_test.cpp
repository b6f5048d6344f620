// tcp_common loss detection: min_RTT, the RACK reordering window, the probe timeout floor and
// the lost-retransmission restart (loss_detection.hpp).
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/tcp_common/loss_detection.hpp"

using namespace netloom::tcp;
using namespace std::chrono_literals;

TEST_CASE("min_rtt is the smallest sample and bounds the reordering window", "[tcp_common]") {
    RtoEstimator rto;
    rto.on_rtt_sample(40ms);
    rto.on_rtt_sample(20ms);
    rto.on_rtt_sample(80ms);
    CHECK(rto.min_rtt() == 20ms);
    CHECK(reorder_window(rto) == 5ms);  // min_RTT / 4
    RtoEstimator fast;
    fast.on_rtt_sample(100us);
    CHECK(reorder_window(fast) == kMinReorderWindow);
}

TEST_CASE(
    "the probe timeout is 2 SRTT, plus the delayed-ACK allowance for one segment, at "
    "least 10 ms",
    "[tcp_common]") {
    RtoEstimator rto;
    rto.on_rtt_sample(30ms);
    CHECK(probe_timeout(rto, false, 200ms) == 60ms);
    CHECK(probe_timeout(rto, true, 200ms) == 260ms);
    RtoEstimator fast;
    for (int i = 0; i < 10; ++i) fast.on_rtt_sample(50us);
    CHECK(probe_timeout(fast, false, 200ms) == kMinProbeTimeout);
}

TEST_CASE("SACKs of DupThresh segments sent after a round of retransmissions restart it",
          "[tcp_common]") {
    constexpr std::uint32_t mss = 1000;
    const SeqNum una(1000);
    SackScoreboard board(una, mss);
    // Ten segments out; 1..3 SACKed: recovery, and the first hole is resent.
    SeqNum snd_max = una + 10 * mss;
    std::vector<netloom::wire::TcpSackBlock> blocks{{(una + mss).value(), (una + 4 * mss).value()}};
    board.on_ack(una, blocks, snd_max);
    board.begin_recovery(snd_max);
    SeqNum fence = snd_max;
    board.on_sent(NextSegment{una, mss, NextSegRule::lost_retransmit});
    CHECK_FALSE(restart_lost_retransmissions(board, una, snd_max, fence, mss));
    // Three new segments, sent after the round began, are SACKed; SND.UNA is still missing.
    snd_max = snd_max + 3 * mss;
    blocks = {{(una + mss).value(), (una + 4 * mss).value()},
              {(una + 10 * mss).value(), (una + 13 * mss).value()}};
    board.on_ack(una, blocks, snd_max);
    CHECK(restart_lost_retransmissions(board, una, snd_max, fence, mss));
    CHECK(fence == snd_max);
    CHECK(board.high_rxt() == una);  // the hole is resent again
    const auto next = board.next_segment(snd_max, 0);
    REQUIRE(next);
    CHECK(next->start == una);
}
