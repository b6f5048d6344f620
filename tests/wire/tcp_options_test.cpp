// TCP options: malformed lengths, SACK limits, End of Option List, unknown kinds, encoding.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/wire/tcp.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;
using Bytes = std::vector<std::uint8_t>;

namespace {

ParseError options_error(const Bytes& options) {
    return parse_tcp_options(options).error();
}

// A whole segment (20-byte header, the options padded to 4 with EOL) to go through TcpView.
Bytes segment_with_options(Bytes options) {
    while (options.size() % 4 != 0) options.push_back(0);
    Bytes segment(20 + options.size(), 0);
    segment[12] = static_cast<std::uint8_t>((segment.size() / 4) << 4);
    std::copy(options.begin(), options.end(), segment.begin() + 20);
    return segment;
}

Bytes sack_option(std::size_t blocks) {
    Bytes option = {5, static_cast<std::uint8_t>(2 + 8 * blocks)};
    for (std::size_t i = 0; i < blocks * 8; ++i) option.push_back(static_cast<std::uint8_t>(i));
    return option;
}

}  // namespace

TEST_CASE("TCP options: length 0 or 1 is refused rather than looped on", "[wire][tcp_options]") {
    CHECK(options_error({2, 0, 5, 0xb4}) == ParseError::bad_option);
    CHECK(options_error({2, 1, 5, 0xb4}) == ParseError::bad_option);
    CHECK(options_error({99, 0}) == ParseError::bad_option);  // unknown kind, same rule
    CHECK(options_error({99, 1, 1, 1}) == ParseError::bad_option);

    const Bytes zero_length = {1, 1, 42, 0};
    TcpOptionReader reader(zero_length);
    TcpOption option;
    CHECK_FALSE(reader.next(option));
    CHECK(reader.error() == ParseError::bad_option);
    CHECK_FALSE(reader.next(option));  // stays failed
    CHECK(reader.error() == ParseError::bad_option);
}

TEST_CASE("TCP options: a length past the options area is refused", "[wire][tcp_options]") {
    CHECK(options_error({2, 4, 5}) == ParseError::bad_option);
    CHECK(options_error({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0}) == ParseError::bad_option);
    CHECK(options_error({1, 1, 1, 2}) == ParseError::bad_option);  // kind with no length byte
    CHECK(options_error({30, 255, 0, 0}) == ParseError::bad_option);

    // Through a segment: the view is fine (the header length is), the Repr is not.
    auto segment = segment_with_options({2, 4, 5, 0xb4, 1, 1, 3, 9});
    auto view = TcpView::parse(segment);
    REQUIRE(view);
    CHECK(TcpRepr::parse(*view).error() == ParseError::bad_option);
}

TEST_CASE("TCP options: SACK blocks are 1 to 4, 8 bytes each", "[wire][tcp_options]") {
    for (std::size_t blocks = 1; blocks <= 4; ++blocks) {
        auto parsed = parse_tcp_options(sack_option(blocks));
        REQUIRE(parsed);
        CHECK(parsed->sack_count == blocks);
        CHECK(parsed->sack_blocks[blocks - 1].left ==
              load_be32(sack_option(blocks).data() + 2 + 8 * (blocks - 1)));
    }
    // Five blocks claim 42 bytes: more than the 40 an options area can hold.
    auto five = sack_option(5);
    CHECK(options_error(five) == ParseError::bad_option);
    five.resize(40);
    CHECK(options_error(five) == ParseError::bad_option);
    CHECK(options_error({5, 2}) == ParseError::bad_option);  // no block at all
    CHECK(options_error({5, 6, 0, 0, 0, 1}) == ParseError::bad_option);
    CHECK(options_error({5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}) == ParseError::bad_option);
    // A segment with 5 blocks cannot even be described: data offset 15 leaves 40 bytes.
    auto segment = segment_with_options(sack_option(4));
    REQUIRE(TcpView::parse(segment));
    CHECK(TcpRepr::parse(*TcpView::parse(segment))->options.sack_count == 4);
}

TEST_CASE("TCP options: known kinds must have their fixed length", "[wire][tcp_options]") {
    CHECK(options_error({2, 3, 5}) == ParseError::bad_option);
    CHECK(options_error({2, 5, 5, 0xb4, 0}) == ParseError::bad_option);
    CHECK(options_error({3, 2}) == ParseError::bad_option);
    CHECK(options_error({3, 4, 7, 0}) == ParseError::bad_option);
    CHECK(options_error({4, 3, 0}) == ParseError::bad_option);
    CHECK(options_error({8, 8, 0, 0, 0, 1, 0, 0}) == ParseError::bad_option);
    CHECK(options_error({8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}) == ParseError::bad_option);
}

TEST_CASE("TCP options: End of Option List ends the list mid-way", "[wire][tcp_options]") {
    // MSS, EOL, then bytes that would be malformed if read: they are padding.
    auto parsed = parse_tcp_options(Bytes{2, 4, 0x05, 0xb4, 0, 2, 0, 3, 1});
    REQUIRE(parsed);
    CHECK(parsed->mss == 1460);
    CHECK_FALSE(parsed->window_scale);

    parsed = parse_tcp_options(Bytes{0, 3, 3, 7});
    REQUIRE(parsed);
    CHECK(*parsed == TcpOptions{});

    // The reader stays at the end once it met End of Option List, however often it is asked.
    const Bytes after_end = {0, 2, 4, 0x05, 0xb4};
    TcpOptionReader reader(after_end);
    TcpOption option;
    CHECK_FALSE(reader.next(option));
    CHECK_FALSE(reader.next(option));
    CHECK(reader.error() == ParseError::ok);

    auto segment = segment_with_options({1, 3, 3, 14, 0, 0xff, 0xff, 0xff});
    auto repr = TcpRepr::parse(*TcpView::parse(segment));
    REQUIRE(repr);
    CHECK(repr->options.window_scale == 14);
}

TEST_CASE("TCP options: unknown kinds are skipped by length", "[wire][tcp_options]") {
    // MPTCP (30, here 4 bytes), a Fast Open cookie (34, 10 bytes), then MSS.
    auto parsed = parse_tcp_options(
        Bytes{30, 4, 0x10, 0x00, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 0x23, 0x28});
    REQUIRE(parsed);
    CHECK(parsed->mss == 9000);

    const Bytes unknown = {1, 30, 4, 0x10, 0x00, 1, 34, 2};
    TcpOptionReader reader(unknown);
    TcpOption option;
    REQUIRE(reader.next(option));
    CHECK(option.kind == 30);
    CHECK(option.data.size() == 2);
    REQUIRE(reader.next(option));
    CHECK(option.kind == 34);
    CHECK(option.data.empty());
    CHECK_FALSE(reader.next(option));
    CHECK(reader.error() == ParseError::ok);
}

TEST_CASE("TCP options: only NOPs, or nothing, is an empty set", "[wire][tcp_options]") {
    CHECK(*parse_tcp_options(Bytes{}) == TcpOptions{});
    CHECK(*parse_tcp_options(Bytes(40, 1)) == TcpOptions{});
}

TEST_CASE("TCP options: a repeated option keeps the last value", "[wire][tcp_options]") {
    auto parsed = parse_tcp_options(Bytes{2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18});
    REQUIRE(parsed);
    CHECK(parsed->mss == 536);
}

TEST_CASE("TCP options: every combination encodes aligned and parses back", "[wire][tcp_options]") {
    for (unsigned mask = 0; mask < 16; ++mask) {
        for (std::uint8_t sacks = 0; sacks <= 4; ++sacks) {
            TcpOptions options;
            if (mask & 1) options.mss = 1400;
            if (mask & 2) options.window_scale = 9;
            if (mask & 4) options.sack_permitted = true;
            if (mask & 8) options.timestamps = TcpTimestamps{0xdeadbeef, 42};
            for (std::uint8_t i = 0; i < sacks; ++i) {
                options.sack_blocks[i] = {1000u * (i + 1), 1000u * (i + 1) + 500};
            }
            options.sack_count = sacks;
            INFO("mask " << mask << " sacks " << int{sacks});

            const std::size_t length = options.encoded_length();
            CHECK(length % 4 == 0);
            CHECK(length <= TcpOptions::kMaxLength);
            Bytes out(length);
            REQUIRE(options.emit(out));
            auto parsed = parse_tcp_options(out);
            REQUIRE(parsed);

            // What comes back is what was sent, minus the SACK blocks that did not fit.
            auto expected = options;
            const std::size_t kept = options.emitted_sack_count();
            CHECK(kept <= sacks);
            for (std::size_t i = kept; i < TcpOptions::kMaxSackBlocks; ++i) {
                expected.sack_blocks[i] = {};
            }
            expected.sack_count = static_cast<std::uint8_t>(kept);
            CHECK(*parsed == expected);
            if (length + 12 <= TcpOptions::kMaxLength) CHECK(kept == sacks);

            Bytes small(length == 0 ? 0 : length - 1);
            if (length > 0) CHECK_FALSE(options.emit(small));
        }
    }
}

TEST_CASE("TCP options: SACK blocks are dropped from the end when space runs out",
          "[wire][tcp_options]") {
    TcpOptions options;
    options.sack_count = 4;
    CHECK(options.emitted_sack_count() == 4);  // 4 + 32 = 36 bytes
    options.timestamps = TcpTimestamps{1, 2};
    CHECK(options.emitted_sack_count() == 3);  // 12 + 4 + 24 = 40, as Linux sends
    options.window_scale = 7;
    options.mss = 1460;
    CHECK(options.emitted_sack_count() == 2);  // 4 + 12 + 4 = 20 leaves 20
    options.sack_count = 200;                  // nonsense count is clamped, not trusted
    CHECK(options.emitted_sack_count() == 2);
    CHECK(options.encoded_length() == 40);
}
