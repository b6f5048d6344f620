// ReassemblyBuffer: in-order and out-of-order insertion at offsets from RCV.NXT, free space
// counted once, the bounded range list, window trimming, lazy storage, and a randomised test
// against a byte-map model.
#include <catch2/catch.hpp>

#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "netloom/tcp_common/reassembly_buffer.hpp"

using netloom::tcp::ReassemblyBuffer;
using Range = ReassemblyBuffer::Range;

namespace {
std::vector<std::uint8_t> bytes_at(std::uint32_t stream_offset, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>((stream_offset + i) * 13);
    return out;
}
std::vector<Range> ranges(const ReassemblyBuffer& buffer) {
    return {buffer.ranges().begin(), buffer.ranges().end()};
}
}  // namespace

TEST_CASE("in-order data becomes readable, storage is freed once read", "[reassembly]") {
    ReassemblyBuffer buffer(10'000);
    CHECK(buffer.heap_bytes() == 0);
    const auto result = buffer.insert(0, bytes_at(0, 3000));
    CHECK(result.advanced == 3000);
    CHECK(result.stored == 3000);
    CHECK(buffer.readable() == 3000);
    CHECK(buffer.window_space() == 7000);
    std::vector<std::uint8_t> out(3000);
    CHECK(buffer.read(out) == 3000);
    CHECK(out == bytes_at(0, 3000));
    CHECK(buffer.heap_bytes() == 0);
}

TEST_CASE("out-of-order data fills the window once, not twice", "[reassembly]") {
    // A whole window of segments arrives with the first one lost: all but the first must fit.
    ReassemblyBuffer buffer(10'000);
    for (std::uint32_t offset = 1000; offset < 10'000; offset += 1000) {
        const auto result = buffer.insert(offset, bytes_at(offset, 1000));
        CHECK(result.stored == 1000);
        CHECK(result.advanced == 0);
    }
    CHECK(buffer.out_of_order_bytes() == 9000);
    CHECK(ranges(buffer) == std::vector<Range>{{1000, 10'000}});
    CHECK(buffer.window_space() == 10'000);  // out-of-order data sits inside the window
    const auto fill = buffer.insert(0, bytes_at(0, 1000));
    CHECK(fill.advanced == 10'000);
    CHECK(fill.filled_hole);
    CHECK(buffer.ranges().empty());
    std::vector<std::uint8_t> out(10'000);
    CHECK(buffer.read(out) == 10'000);
    CHECK(out == bytes_at(0, 10'000));
}

TEST_CASE("data beyond the window is trimmed, overlapping ranges merge", "[reassembly]") {
    ReassemblyBuffer buffer(5000);
    buffer.insert(0, bytes_at(0, 1000));  // 1000 unread: window 4000 past RCV.NXT
    CHECK(buffer.insert(4500, bytes_at(5500, 100)).stored == 0);
    CHECK(buffer.insert(3500, bytes_at(4500, 1000)).stored == 500);
    buffer.insert(1000, bytes_at(2000, 500));
    buffer.insert(2000, bytes_at(3000, 500));
    CHECK(ranges(buffer) == std::vector<Range>{{1000, 1500}, {2000, 2500}, {3500, 4000}});
    buffer.insert(1200, bytes_at(2200, 900));  // bridges the first two
    CHECK(ranges(buffer) == std::vector<Range>{{1000, 2500}, {3500, 4000}});
    buffer.insert(2500, bytes_at(3500, 1000));  // touches both neighbours
    CHECK(ranges(buffer) == std::vector<Range>{{1000, 4000}});
}

TEST_CASE("more than kMaxRanges disjoint ranges: the segment is refused and counted",
          "[reassembly]") {
    ReassemblyBuffer buffer(1 << 20);
    for (std::uint32_t i = 0; i < ReassemblyBuffer::kMaxRanges; ++i) {
        REQUIRE_FALSE(buffer.insert(100 + i * 200, bytes_at(100 + i * 200, 100)).refused);
    }
    const auto refused = buffer.insert(100'000, bytes_at(100'000, 100));
    CHECK(refused.refused);
    CHECK(refused.stored == 0);
    CHECK(buffer.ranges_refused() == 1);
    CHECK(buffer.ranges().size() == ReassemblyBuffer::kMaxRanges);
    // Extending an existing range needs no new one, and the in-order fill is always taken.
    CHECK_FALSE(buffer.insert(200, bytes_at(200, 50)).refused);
    const auto fill = buffer.insert(0, bytes_at(0, 100));
    CHECK(fill.advanced == 250);
    CHECK(buffer.ranges().size() == ReassemblyBuffer::kMaxRanges - 1);
}

TEST_CASE("randomised segments against a byte-map model", "[reassembly]") {
    std::mt19937 rng(2024);
    for (int trial = 0; trial < 20; ++trial) {
        const std::uint32_t capacity = 4000 + trial * 997;
        ReassemblyBuffer buffer(capacity);
        std::map<std::uint64_t, std::uint8_t> model;  // stream offset -> byte, not yet in order
        std::uint64_t rcv_nxt = 0, read_pos = 0;
        std::vector<std::uint8_t> delivered;
        for (int step = 0; step < 4000; ++step) {
            if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
                std::vector<std::uint8_t> out(
                    std::uniform_int_distribution<std::size_t>(1, 3000)(rng));
                const std::size_t n = buffer.read(out);
                REQUIRE(n == std::min<std::uint64_t>(out.size(), rcv_nxt - read_pos));
                delivered.insert(delivered.end(), out.begin(), out.begin() + n);
                read_pos += n;
                continue;
            }
            const auto offset = std::uniform_int_distribution<std::uint32_t>(0, capacity)(rng);
            const auto length = std::uniform_int_distribution<std::uint32_t>(1, 700)(rng);
            const auto stream = static_cast<std::uint32_t>(rcv_nxt + offset);
            const auto result = buffer.insert(offset, bytes_at(stream, length));
            // Model: keep what fits in capacity - unread, unless refused.
            const std::uint64_t window = capacity - (rcv_nxt - read_pos);
            const std::uint64_t end = std::min<std::uint64_t>(offset + length, window);
            if (!result.refused && offset < window) {
                REQUIRE(result.stored == end - offset);
                for (std::uint64_t i = rcv_nxt + offset; i < rcv_nxt + end; ++i)
                    model[i] = static_cast<std::uint8_t>(i * 13);
            } else {
                REQUIRE(result.stored == 0);
            }
            std::uint64_t advanced = 0;
            while (!model.empty() && model.begin()->first == rcv_nxt) {
                model.erase(model.begin());
                ++rcv_nxt;
                ++advanced;
            }
            REQUIRE(result.advanced == advanced);
            REQUIRE(buffer.readable() == rcv_nxt - read_pos);
            REQUIRE(buffer.out_of_order_bytes() == model.size());
            REQUIRE(buffer.ranges().size() <= ReassemblyBuffer::kMaxRanges);
        }
        std::vector<std::uint8_t> rest(capacity);
        const std::size_t n = buffer.read(rest);
        delivered.insert(delivered.end(), rest.begin(), rest.begin() + n);
        CHECK(delivered == bytes_at(0, delivered.size()));
        CHECK(delivered.size() == rcv_nxt);
    }
}

TEST_CASE("copies are deep", "[reassembly]") {
    ReassemblyBuffer a(1000);
    a.insert(100, bytes_at(100, 50));
    a.insert(0, bytes_at(0, 20));
    ReassemblyBuffer b = a;
    a.clear();
    CHECK(a.heap_bytes() == 0);
    CHECK(b.ranges().size() == 1);
    CHECK(b.insert(0, bytes_at(20, 80)).advanced == 130);  // offsets are from RCV.NXT (20)
    std::vector<std::uint8_t> out(150);
    CHECK(b.read(out) == 150);
    CHECK(out == bytes_at(0, 150));
}
