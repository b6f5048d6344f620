// Receiver SACK blocks (RFC 2018 4): recency order, merging, RCV.NXT advances, capacity, wrap.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "netloom/tcp_common/sack_receiver.hpp"

using namespace netloom::tcp;
using netloom::wire::TcpSackBlock;

namespace {
std::vector<TcpSackBlock> blocks(const SackReceiver& sack) {
    std::array<TcpSackBlock, SackReceiver::kCapacity> out{};
    const std::size_t n = sack.fill(std::span(out));
    return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}
}  // namespace

TEST_CASE("most recently received block first, each block disjoint", "[sack_rx]") {
    SackReceiver sack;
    const SeqNum nxt(1000);
    sack.on_out_of_order(SeqNum(1100), SeqNum(1200), nxt);
    sack.on_out_of_order(SeqNum(1300), SeqNum(1400), nxt);
    sack.on_out_of_order(SeqNum(1500), SeqNum(1600), nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1500, 1600}, {1300, 1400}, {1100, 1200}});
    // A segment adjacent to the oldest block extends it and makes it the most recent.
    sack.on_out_of_order(SeqNum(1200), SeqNum(1250), nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1100, 1250}, {1500, 1600}, {1300, 1400}});
    // A segment bridging two blocks merges all three into one, first.
    sack.on_out_of_order(SeqNum(1400), SeqNum(1500), nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1300, 1600}, {1100, 1250}});
    // A duplicate inside a block still moves that block first (it holds the triggering segment).
    sack.on_out_of_order(SeqNum(1150), SeqNum(1160), nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1100, 1250}, {1300, 1600}});
}

TEST_CASE("RCV.NXT advancing drops covered blocks and trims a straddled one", "[sack_rx]") {
    SackReceiver sack;
    sack.on_out_of_order(SeqNum(1100), SeqNum(1200), SeqNum(1000));
    sack.on_out_of_order(SeqNum(1300), SeqNum(1400), SeqNum(1000));
    sack.on_advance(SeqNum(1200));  // the hole [1000,1100) was filled: the engine moved past it
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1300, 1400}});
    sack.on_advance(SeqNum(1350));
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1350, 1400}});
    sack.on_advance(SeqNum(1400));
    CHECK(sack.size() == 0);
}

TEST_CASE("data at or below RCV.NXT and empty ranges are not reported", "[sack_rx]") {
    SackReceiver sack;
    sack.on_out_of_order(SeqNum(900), SeqNum(1000), SeqNum(1000));
    sack.on_out_of_order(SeqNum(1200), SeqNum(1200), SeqNum(1000));
    sack.on_out_of_order(SeqNum(1300), SeqNum(1200), SeqNum(1000));
    CHECK(sack.size() == 0);
    sack.on_out_of_order(SeqNum(900), SeqNum(1100), SeqNum(1000));
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{1000, 1100}});
}

TEST_CASE("capacity: the least recently touched block is forgotten", "[sack_rx]") {
    SackReceiver sack;
    const SeqNum nxt(0);
    for (std::uint32_t i = 0; i < SackReceiver::kCapacity + 2; ++i) {
        sack.on_out_of_order(SeqNum(100 + 200 * i), SeqNum(200 + 200 * i), nxt);
    }
    CHECK(sack.size() == SackReceiver::kCapacity);
    const auto got = blocks(sack);
    const std::uint32_t newest = SackReceiver::kCapacity + 1;
    CHECK(got.front() == TcpSackBlock{100 + 200 * newest, 200 + 200 * newest});
    CHECK(got.back() == TcpSackBlock{100 + 200 * 2, 200 + 200 * 2});  // blocks 0 and 1 dropped
}

TEST_CASE("blocks across the 2^32 wrap", "[sack_rx]") {
    SackReceiver sack;
    const SeqNum nxt(0xffffff00u);
    sack.on_out_of_order(SeqNum(0xffffffc0u), SeqNum(0x40), nxt);
    sack.on_out_of_order(SeqNum(0x40), SeqNum(0x80), nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{0xffffffc0u, 0x80}});
    sack.on_advance(SeqNum(0x10));
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{0x10, 0x80}});
}

TEST_CASE("fill into TcpOptions takes at most four blocks, newest first", "[sack_rx]") {
    SackReceiver sack;
    for (std::uint32_t i = 0; i < 6; ++i) {
        sack.on_out_of_order(SeqNum(100 + 200 * i), SeqNum(200 + 200 * i), SeqNum(0));
    }
    netloom::wire::TcpOptions options;
    sack.fill(options);
    CHECK(options.sack_count == 4);
    CHECK(options.sack_blocks[0] == TcpSackBlock{1100, 1200});
    CHECK(options.sack_blocks[3] == TcpSackBlock{500, 600});
    std::array<TcpSackBlock, 2> two{};
    CHECK(sack.fill(std::span(two)) == 2);
    CHECK(two[1] == TcpSackBlock{900, 1000});
}

TEST_CASE("find_duplicate: the first part already held, below RCV.NXT or queued (RFC 2883 4)",
          "[sack_rx][dsack]") {
    const SeqNum nxt(1000);
    const std::array<ReassemblyBuffer::Range, 2> held{
        {{100, 200}, {300, 400}}};  // 1100-1200, 1300-1400
    using D = DuplicateRange;
    CHECK(find_duplicate(SeqNum(800), SeqNum(900), nxt, held) == D{SeqNum(800), SeqNum(900)});
    // Straddling RCV.NXT: only the part below (and it comes first even if more is queued).
    CHECK(find_duplicate(SeqNum(900), SeqNum(1150), nxt, held) == D{SeqNum(900), SeqNum(1000)});
    CHECK(find_duplicate(SeqNum(1100), SeqNum(1200), nxt, held) == D{SeqNum(1100), SeqNum(1200)});
    // Overlapping two held ranges: the first contiguous duplicate part.
    CHECK(find_duplicate(SeqNum(1150), SeqNum(1350), nxt, held) == D{SeqNum(1150), SeqNum(1200)});
    CHECK(find_duplicate(SeqNum(1250), SeqNum(1350), nxt, held) == D{SeqNum(1300), SeqNum(1350)});
    // New data only, or nothing at all.
    CHECK_FALSE(find_duplicate(SeqNum(1000), SeqNum(1100), nxt, held));
    CHECK_FALSE(find_duplicate(SeqNum(1200), SeqNum(1300), nxt, held));
    CHECK_FALSE(find_duplicate(SeqNum(1400), SeqNum(1500), nxt, held));
    CHECK_FALSE(find_duplicate(SeqNum(900), SeqNum(900), nxt, held));
    // Below RCV.NXT is found without any queued range; across the sequence wrap too.
    CHECK(find_duplicate(SeqNum(0xffffff00u), SeqNum(0x10), SeqNum(0x20), {}) ==
          D{SeqNum(0xffffff00u), SeqNum(0x10)});
}

TEST_CASE("a D-SACK below RCV.NXT goes first, once, followed by the usual blocks",
          "[sack_rx][dsack]") {
    SackReceiver sack;
    const SeqNum nxt(2000);
    sack.on_out_of_order(SeqNum(3000), SeqNum(3500), nxt);
    sack.on_out_of_order(SeqNum(4000), SeqNum(4500), nxt);
    CHECK_FALSE(sack.dsack_pending());
    sack.on_duplicate({SeqNum(1000), SeqNum(2000)}, nxt);
    CHECK(sack.dsack_pending());
    CHECK(sack.size() == 2);
    CHECK(sack.report_size() == 3);
    CHECK(blocks(sack) ==
          std::vector<TcpSackBlock>{{1000, 2000}, {4000, 4500}, {3000, 3500}});  // rules 1, 3, 5
    // Rule 2: reported in one ACK only.
    sack.on_ack_sent();
    CHECK_FALSE(sack.dsack_pending());
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{4000, 4500}, {3000, 3500}});
    // A D-SACK without any out-of-order block is a SACK option of its own.
    SackReceiver alone;
    alone.on_duplicate({SeqNum(1000), SeqNum(2000)}, nxt);
    CHECK(blocks(alone) == std::vector<TcpSackBlock>{{1000, 2000}});
    // A newer duplicate replaces one not yet reported; RCV.NXT advancing keeps it.
    alone.on_duplicate({SeqNum(1500), SeqNum(1600)}, nxt);
    alone.on_advance(SeqNum(2500));
    CHECK(blocks(alone) == std::vector<TcpSackBlock>{{1500, 1600}});
    alone.clear();
    CHECK(alone.report_size() == 0);
}

TEST_CASE("a D-SACK above RCV.NXT is followed by the block containing it (RFC 2883 4 rule 4)",
          "[sack_rx][dsack]") {
    // sack-receiver-dsack-above-ack.pkt: [1001, 3001) held, [2001, 3001) arrives again.
    SackReceiver sack;
    const SeqNum nxt(1);
    sack.on_out_of_order(SeqNum(1001), SeqNum(2001), nxt);
    sack.on_out_of_order(SeqNum(2001), SeqNum(3001), nxt);
    sack.on_out_of_order(SeqNum(5001), SeqNum(6001), nxt);  // a newer block, now first
    sack.on_duplicate({SeqNum(2001), SeqNum(3001)}, nxt);
    CHECK(blocks(sack) == std::vector<TcpSackBlock>{{2001, 3001}, {1001, 3001}, {5001, 6001}});
    // fill(TcpOptions) keeps the same order, capped at what the option holds.
    netloom::wire::TcpOptions options;
    sack.fill(options);
    REQUIRE(options.sack_count == 3);
    CHECK(options.sack_blocks[0] == TcpSackBlock{2001, 3001});
    CHECK(options.sack_blocks[1] == TcpSackBlock{1001, 3001});
}
