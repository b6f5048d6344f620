// Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4), including across the wrap.
#include <catch2/catch.hpp>

#include <cstdint>

#include "netloom/tcp_common/seq.hpp"

using netloom::tcp::SeqNum;
using namespace netloom::tcp;

TEST_CASE("offsets wrap modulo 2^32", "[seq]") {
    const SeqNum top(0xfffffff0u);
    CHECK((top + 0x20).value() == 0x10u);
    CHECK((SeqNum(5) - 10).value() == 0xfffffffbu);
    SeqNum s(0xffffffffu);
    s += 1;
    CHECK(s.value() == 0u);
    s -= 1;
    CHECK(s.value() == 0xffffffffu);
}

TEST_CASE("signed difference and ordering across the wrap", "[seq]") {
    const SeqNum before(0xfffffff0u);
    const SeqNum after(0x00000010u);  // 0x20 later, past the wrap
    CHECK(after - before == 0x20);
    CHECK(before - after == -0x20);
    CHECK(lt(before, after));
    CHECK(le(before, after));
    CHECK(gt(after, before));
    CHECK(ge(after, before));
    CHECK_FALSE(lt(after, before));
    CHECK_FALSE(gt(before, after));
    CHECK(le(after, after));
    CHECK(ge(after, after));
    CHECK_FALSE(lt(after, after));
    CHECK(seq_max(before, after) == after);
    CHECK(seq_min(before, after) == before);
    CHECK(forward_distance(before, after) == 0x20u);
}

TEST_CASE("ordering holds for every distance below 2^31 in both directions", "[seq]") {
    for (std::uint32_t base : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xfffffffeu}) {
        for (std::uint32_t d : {1u, 2u, 1000u, 0x40000000u, 0x7fffffffu}) {
            const SeqNum a(base);
            const SeqNum b = a + d;
            INFO("base " << base << " distance " << d);
            CHECK(lt(a, b));
            CHECK(gt(b, a));
            CHECK(b - a == static_cast<std::int32_t>(d));
        }
    }
}

TEST_CASE("in_window is start <= seq < start + len modulo 2^32", "[seq]") {
    const SeqNum start(0xfffffffeu);
    CHECK(in_window(start, start, 4));
    CHECK(in_window(SeqNum(0xffffffffu), start, 4));
    CHECK(in_window(SeqNum(0), start, 4));
    CHECK(in_window(SeqNum(1), start, 4));
    CHECK_FALSE(in_window(SeqNum(2), start, 4));            // start + len is outside
    CHECK_FALSE(in_window(SeqNum(0xfffffffdu), start, 4));  // just before
    CHECK_FALSE(in_window(start, start, 0));                // empty window holds nothing
    CHECK(in_window(start - 2, start, 0xffffffffu));        // all numbers but start - 1
    CHECK_FALSE(in_window(start - 1, start, 0xffffffffu));
}

TEST_CASE("seq helpers are usable in constant expressions", "[seq]") {
    static_assert(lt(SeqNum(0xffffffffu), SeqNum(0)));
    static_assert(in_window(SeqNum(3), SeqNum(1), 3));
    CHECK(SeqNum(7) == SeqNum(7));
}
