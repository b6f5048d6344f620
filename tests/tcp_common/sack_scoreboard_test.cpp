// Sender scoreboard and RFC 6675 IsLost / SetPipe / NextSeg, with hand-made scenarios.
// Unless said otherwise: SMSS 100, SND.UNA 1000, ten segments sent (SND.NXT 2000).
#include <catch2/catch.hpp>

#include <initializer_list>
#include <vector>

#include "netloom/tcp_common/sack_scoreboard.hpp"

using namespace netloom::tcp;
using netloom::wire::TcpSackBlock;

namespace {
constexpr std::uint32_t kSegmentSize = 100;
const SeqNum kUna(1000);
const SeqNum kNxt(2000);

std::uint32_t sack(SackScoreboard& board, std::initializer_list<TcpSackBlock> blocks,
                   SeqNum ack = kUna, SeqNum nxt = kNxt) {
    const std::vector<TcpSackBlock> list(blocks);
    return board.on_ack(ack, list, nxt);
}

std::vector<SeqRange> ranges(const SackScoreboard& board) {
    return {board.ranges().begin(), board.ranges().end()};
}
}  // namespace

TEST_CASE("blocks are merged into sorted disjoint ranges", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    CHECK(sack(board, {{1500, 1600}, {1100, 1200}}) == 200);
    CHECK(sack(board, {{1200, 1300}}) == 100);  // adjacent: joins [1100,1200)
    CHECK(ranges(board) ==
          std::vector<SeqRange>{{SeqNum(1100), SeqNum(1300)}, {SeqNum(1500), SeqNum(1600)}});
    CHECK(sack(board, {{1150, 1550}}) == 200);  // bridges both
    CHECK(ranges(board) == std::vector<SeqRange>{{SeqNum(1100), SeqNum(1600)}});
    CHECK(sack(board, {{1100, 1600}}) == 0);  // repeated information adds nothing
    CHECK(board.sacked_bytes() == 500);
    CHECK(board.is_sacked(SeqNum(1100)));
    CHECK_FALSE(board.is_sacked(SeqNum(1600)));
    CHECK(board.highest_sacked() == SeqNum(1600));
}

TEST_CASE("bogus and stale blocks are ignored and counted", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    CHECK(sack(board, {{1200, 1100}, {1300, 1300}, {1900, 2100}, {2100, 2200}}) == 0);
    CHECK(board.counters().blocks_bogus == 4);
    CHECK(sack(board, {{900, 1000}, {500, 600}}) == 0);  // at/below SND.UNA: D-SACK or old
    CHECK(board.counters().blocks_stale == 2);
    CHECK(board.ranges().empty());
    CHECK(sack(board, {{900, 1100}}) == 100);  // straddles SND.UNA: trimmed
    CHECK(ranges(board) == std::vector<SeqRange>{{SeqNum(1000), SeqNum(1100)}});
    CHECK(sack(board, {{1900, 2000}}) == 100);  // up to SND.NXT exactly is fine
    CHECK(board.counters().blocks_accepted == 2);
}

TEST_CASE("cumulative ACK discards and trims ranges", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1100, 1200}, {1300, 1500}});
    sack(board, {}, SeqNum(1400));
    CHECK(board.snd_una() == SeqNum(1400));
    CHECK(ranges(board) == std::vector<SeqRange>{{SeqNum(1400), SeqNum(1500)}});
    sack(board, {}, SeqNum(1300));  // an old ACK does not move SND.UNA back
    CHECK(board.snd_una() == SeqNum(1400));
    sack(board, {}, SeqNum(1500));
    CHECK(board.ranges().empty());
}

TEST_CASE("memory is bounded: a disjoint range beyond the cap is dropped, merges still work",
          "[scoreboard]") {
    SackScoreboard board(SeqNum(0), kSegmentSize);
    const SeqNum nxt(1'000'000);
    for (std::uint32_t i = 0; i < SackScoreboard::kMaxRanges + 5; ++i) {
        sack(board, {{200 * i + 100, 200 * i + 200}}, SeqNum(0), nxt);
    }
    CHECK(board.ranges().size() == SackScoreboard::kMaxRanges);
    CHECK(board.counters().blocks_dropped == 5);
    CHECK(sack(board, {{200, 300}}, SeqNum(0), nxt) == 100);  // fills hole 1: two ranges merge
    CHECK(board.ranges().size() == SackScoreboard::kMaxRanges - 1);
}

TEST_CASE("IsLost: DupThresh ranges above, or more than 2 SMSS SACKed above", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1100, 1300}});  // exactly 2 * SMSS above
    CHECK_FALSE(board.is_lost(SeqNum(1000)));
    sack(board, {{1400, 1401}});  // 201 bytes above 1000
    CHECK(board.is_lost(SeqNum(1000)));
    CHECK_FALSE(board.is_lost(SeqNum(1300)));  // only 1 byte above

    SackScoreboard small(kUna, kSegmentSize);
    sack(small, {{1100, 1110}, {1200, 1210}});
    CHECK_FALSE(small.is_lost(SeqNum(1000)));
    sack(small, {{1300, 1310}});  // three discontiguous SACKed sequences, 30 bytes
    CHECK(small.is_lost(SeqNum(1000)));
    CHECK_FALSE(small.is_lost(SeqNum(1110)));  // only two above

    SackScoreboard one_byte(kUna, 1);  // SMSS 1: more than 2 bytes SACKed above means lost
    sack(one_byte, {{1001, 1003}});
    CHECK_FALSE(one_byte.is_lost(SeqNum(1000)));
    sack(one_byte, {{1003, 1004}});
    CHECK(one_byte.is_lost(SeqNum(1000)));
}

TEST_CASE("SetPipe counts unSACKed bytes not lost plus retransmitted ones", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    CHECK(board.pipe(kNxt) == 1000);  // nothing SACKed: all in flight
    sack(board, {{1100, 1400}});
    // [1000,1100) is lost (300 bytes SACKed above), [1400,2000) is in flight.
    CHECK(board.pipe(kNxt) == 600);
    board.begin_recovery(kNxt);
    auto next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    board.on_sent(*next);
    CHECK(board.pipe(kNxt) == 700);  // the retransmission is in flight
    // New data sent later extends HighData.
    CHECK(board.pipe(kNxt + 100) == 800);
}

TEST_CASE("NextSeg rule 1: lost holes above HighRxt, SMSS at a time, lowest first",
          "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1250, 1300}, {1400, 1700}});
    board.begin_recovery(kNxt);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sent;
    for (int i = 0; i < 4; ++i) {
        auto next = board.next_segment(kNxt, 0);
        REQUIRE(next);
        if (next->rule != NextSegRule::lost_retransmit) break;
        sent.emplace_back(next->start.value(), next->length);
        board.on_sent(*next);
    }
    // Holes [1000,1250) and [1300,1400) are both lost (>= 2 ranges, 350 bytes above [1000..)).
    CHECK(sent == std::vector<std::pair<std::uint32_t, std::uint32_t>>{
                      {1000, 100}, {1100, 100}, {1200, 50}, {1300, 100}});
    CHECK(board.high_rxt() == SeqNum(1400));
}

TEST_CASE("NextSeg rule 2 before rule 3: new data when no hole is lost", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1100, 1200}});  // 100 bytes above the hole: not lost yet
    board.begin_recovery(kNxt);
    auto next = board.next_segment(kNxt, 5000);
    REQUIRE(next);
    CHECK(next->rule == NextSegRule::new_data);
    CHECK(next->start == kNxt);
    CHECK(next->length == kSegmentSize);
    next = board.next_segment(kNxt, 30);  // window allows only 30 bytes
    REQUIRE(next);
    CHECK(next->length == 30);
    // Without new data: rule 3 retransmits the hole below the highest SACK.
    next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    CHECK(next->rule == NextSegRule::hole_retransmit);
    CHECK(next->start == kUna);
    CHECK(next->length == 100);
    board.on_sent(*next);
    CHECK(board.high_rxt() == SeqNum(1100));
}

TEST_CASE("NextSeg rule 4: one rescue retransmission per recovery", "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1000, 1200}}, SeqNum(1000));  // [1000,1200) SACKed, tail [1200,2000) unSACKed
    board.begin_recovery(kNxt);
    auto next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    CHECK(next->rule == NextSegRule::rescue_retransmit);
    CHECK(next->start == SeqNum(1900));  // ends at the highest unSACKed byte
    CHECK(next->length == kSegmentSize);
    board.on_sent(*next);
    CHECK(board.rescue_rxt() == kNxt);                     // RescueRxt = RecoveryPoint
    CHECK(board.high_rxt() == kUna);                       // HighRxt untouched
    CHECK_FALSE(board.next_segment(kNxt, 0).has_value());  // only one rescue
    // Nothing outstanding unSACKed: no rescue either.
    SackScoreboard done(kUna, kSegmentSize);
    sack(done, {{1000, 2000}});
    done.begin_recovery(kNxt);
    CHECK_FALSE(done.next_segment(kNxt, 0).has_value());
    // Not in recovery: rule 4 does not apply.
    SackScoreboard idle(kUna, kSegmentSize);
    CHECK_FALSE(idle.next_segment(kNxt, 0).has_value());
}

TEST_CASE("recovery point, RTO clear, and sequence wrap", "[scoreboard]") {
    const SeqNum una(0xffffff00u);
    const SeqNum nxt = una + 1000;  // wraps past zero
    SackScoreboard board(una, kSegmentSize);
    const std::vector<TcpSackBlock> blocks{{(una + 100).value(), (una + 400).value()}};
    CHECK(board.on_ack(una, blocks, nxt) == 300);
    CHECK(board.is_lost(una));
    board.begin_recovery(nxt);
    auto next = board.next_segment(nxt, 0);
    REQUIRE(next);
    CHECK(next->start == una);
    CHECK(board.pipe(nxt) == 600);
    board.on_ack(nxt - 1, {}, nxt);
    CHECK_FALSE(board.recovery_point_reached());
    board.on_ack(nxt, {}, nxt);
    CHECK(board.recovery_point_reached());
    CHECK(board.ranges().empty());
    board.on_ack(nxt, blocks, nxt + 1000);  // below SND.UNA now: stale
    CHECK(board.counters().blocks_stale == 1);
    board.clear();
    CHECK_FALSE(board.in_recovery());
    CHECK(board.ranges().empty());
}

TEST_CASE(
    "timeout recovery: every unSACKed byte below RecoveryPoint is lost, SACKed data is "
    "never resent (RFC 6675 5.1, RFC 8985 6.3)",
    "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1300, 1400}});  // one range: IsLost would say nothing is lost
    CHECK_FALSE(board.is_lost(kUna));
    board.begin_timeout_recovery(kNxt);
    CHECK(board.after_timeout());
    CHECK(board.pipe(kNxt) == 0);  // nothing resent yet: the whole flight is presumed gone
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sent;
    while (auto next = board.next_segment(kNxt, 0)) {
        if (next->rule != NextSegRule::lost_retransmit) break;
        sent.emplace_back(next->start.value(), next->length);
        board.on_sent(*next);
    }
    // The hole below the range, then the unSACKed tail up to RecoveryPoint; never [1300,1400).
    CHECK(sent == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1000, 100},
                                                                       {1100, 100},
                                                                       {1200, 100},
                                                                       {1400, 100},
                                                                       {1500, 100},
                                                                       {1600, 100},
                                                                       {1700, 100},
                                                                       {1800, 100},
                                                                       {1900, 100}});
    CHECK(board.pipe(kNxt) == 900);  // only the retransmissions are in the network
    // New data sent after the timeout (above RecoveryPoint) is not presumed lost.
    CHECK(board.pipe(SeqNum(2100)) == 1000);
    board.end_recovery();
    CHECK_FALSE(board.after_timeout());
}

TEST_CASE("lost retransmissions: DupThresh resent segments SACKed above a missing first hole",
          "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    board.begin_timeout_recovery(kNxt);
    for (int i = 0; i < 6; ++i) board.on_sent(*board.next_segment(kNxt, 0));  // [1000, 1600)
    REQUIRE(board.high_rxt() == SeqNum(1600));
    CHECK_FALSE(board.lost_retransmissions_below());
    sack(board, {{1100, 1300}});  // two resent segments arrived: within the reordering allowance
    CHECK_FALSE(board.lost_retransmissions_below());
    sack(board, {{1100, 1400}});  // the third: [1000, 1100) was resent before them and is lost
    const auto lost_below = board.lost_retransmissions_below();
    REQUIRE(lost_below);
    CHECK(*lost_below == SeqNum(1400));
    const std::uint32_t pipe_before = board.pipe(kNxt);
    board.restart_retransmissions(*lost_below);
    // The round restarts at SND.UNA, resends only [1000, 1100), then skips the previous
    // round's retransmissions still in flight ([1400, 1600)) and goes on at 1600.
    CHECK(board.pipe(kNxt) == pipe_before - 100);
    auto next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    CHECK(next->start == SeqNum(1000));
    CHECK(next->length == 100);
    board.on_sent(*next);
    next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    CHECK(next->start == SeqNum(1600));
    CHECK_FALSE(board.lost_retransmissions_below());  // a new round needs new evidence
}

TEST_CASE("declare_holes_lost: after a delivered retransmission the older holes are lost",
          "[scoreboard]") {
    SackScoreboard board(kUna, kSegmentSize);
    sack(board, {{1500, 1600}});
    board.begin_recovery(kNxt);
    CHECK_FALSE(board.is_lost(SeqNum(1100)));
    CHECK(board.pipe(kNxt) == 900);
    board.declare_holes_lost();
    CHECK(board.after_timeout());
    CHECK(board.pipe(kNxt) == 0);
    auto next = board.next_segment(kNxt, 0);
    REQUIRE(next);
    CHECK(next->rule == NextSegRule::lost_retransmit);
    CHECK(next->start == kUna);
    SackScoreboard idle(kUna, kSegmentSize);
    idle.declare_holes_lost();  // outside recovery it does nothing
    CHECK_FALSE(idle.after_timeout());
}

TEST_CASE("D-SACK blocks as the receiver sends them leave the scoreboard as it was (RFC 2883)",
          "[scoreboard][dsack]") {
    SackScoreboard board(kUna, kSegmentSize);
    CHECK(sack(board, {{1100, 1300}, {1500, 1600}}) == 300);
    const auto before = ranges(board);
    const bool lost_before = board.is_lost(kUna);
    // Below SND.UNA (RFC 2883 4.1.1): stale, ignored; the blocks after it add nothing new.
    CHECK(sack(board, {{900, 1000}, {1100, 1300}, {1500, 1600}}) == 0);
    CHECK(board.counters().blocks_stale == 1);
    // Above SND.UNA, inside a SACKed range, followed by that range (4.1.2): nothing new either,
    // and nothing bogus.
    CHECK(sack(board, {{1200, 1300}, {1100, 1300}, {1500, 1600}}) == 0);
    CHECK(board.counters().blocks_bogus == 0);
    CHECK(ranges(board) == before);
    CHECK(board.is_lost(kUna) == lost_before);
    CHECK(board.highest_sacked() == SeqNum(1600));
}
