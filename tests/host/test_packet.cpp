// Packet: headroom, slicing without copies, pooling and move-only ownership.
#include <catch2/catch.hpp>

#include "netloom/packet.hpp"

using netloom::Packet;

TEST_CASE("prepend uses headroom without moving the payload") {
    Packet p = Packet::allocate(100, 64);
    auto body = p.append(10);
    REQUIRE(body.size() == 10);
    for (std::size_t i = 0; i < 10; ++i) body[i] = static_cast<std::uint8_t>(i);
    const std::uint8_t* payload_at = p.data();
    auto header = p.prepend(14);
    REQUIRE(header.size() == 14);
    CHECK(p.size() == 24);
    CHECK(p.data() + 14 == payload_at);
    CHECK(p.headroom() == 50);
    CHECK(p.prepend(51).empty());  // too big: refused, unchanged
    CHECK(p.size() == 24);
}

TEST_CASE("pull and trim slice in place") {
    std::uint8_t bytes[20];
    for (int i = 0; i < 20; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    Packet p = Packet::copy_of(bytes);
    CHECK(p.pull(4));
    CHECK(p.data()[0] == 4);
    p.trim(10);
    CHECK(p.size() == 10);
    CHECK(p.data()[9] == 13);
    CHECK_FALSE(p.pull(11));
    CHECK(p.size() == 10);
    p.trim(50);
    CHECK(p.size() == 10);
}

TEST_CASE("moving transfers ownership, copying is impossible") {
    static_assert(!std::is_copy_constructible_v<Packet>);
    Packet a = Packet::allocate(10);
    a.append(3);
    Packet b = std::move(a);
    CHECK_FALSE(a);
    CHECK(b.size() == 3);
    Packet c;
    c = std::move(b);
    CHECK(c.size() == 3);
    CHECK_FALSE(b);
}

TEST_CASE("small buffers are recycled through a bounded pool") {
    std::size_t before = Packet::pool_free_count();
    { Packet p = Packet::allocate(100); }
    CHECK(Packet::pool_free_count() == before + 1);
    { Packet p = Packet::allocate(100); }  // reuses the freed buffer
    CHECK(Packet::pool_free_count() == before + 1);
    {
        Packet big = Packet::allocate(65536);
        CHECK(big.tailroom() >= 65536);
    }
    CHECK(Packet::pool_free_count() == before + 1);  // big buffers are not pooled
}

TEST_CASE("append refuses more than the tailroom") {
    Packet p = Packet::allocate(10, 0);
    CHECK(p.append(Packet::kPooledCapacity + 1).empty());
    CHECK(p.size() == 0);
    CHECK(p.append(Packet::kPooledCapacity).size() == Packet::kPooledCapacity);
}

TEST_CASE("clone copies bytes and keeps flags and headroom") {
    std::uint8_t bytes[3] = {1, 2, 3};
    Packet p = Packet::copy_of(bytes, 40);
    p.set_flag(Packet::kReassembled);
    Packet q = p.clone();
    CHECK(q.size() == 3);
    CHECK(q.data() != p.data());
    CHECK(q.data()[2] == 3);
    CHECK(q.flags() == Packet::kReassembled);
    CHECK(q.headroom() == 40);
    CHECK(p.flags() == Packet::kReassembled);
    CHECK(p.clone(8).headroom() == 8);
    CHECK_FALSE(q.shared());
}

TEST_CASE("share slices the buffer without copying and counts its sharers") {
    std::uint8_t bytes[10];
    for (int i = 0; i < 10; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    Packet p = Packet::copy_of(bytes);
    p.set_flag(Packet::kChecksumVerified);
    CHECK(p.use_count() == 1);
    Packet slice = p.share(4, 3);
    REQUIRE(slice);
    CHECK(slice.size() == 3);
    CHECK(slice.data() == p.data() + 4);  // the same bytes, not a copy
    CHECK(slice.data()[0] == 4);
    CHECK(slice.flags() == Packet::kChecksumVerified);
    CHECK(p.use_count() == 2);
    CHECK(slice.use_count() == 2);
    Packet whole = p.share(0, p.size());
    CHECK(p.use_count() == 3);
    Packet empty_slice = p.share(10, 0);  // the empty range at the end is inside
    CHECK(empty_slice.size() == 0);
    CHECK(p.use_count() == 4);
    CHECK_FALSE(p.share(8, 3));  // past the end: refused, nothing counted
    CHECK_FALSE(p.share(11, 0));
    CHECK(p.use_count() == 4);
    CHECK_FALSE(Packet{}.share(0, 0));
    CHECK(Packet{}.use_count() == 0);
}

TEST_CASE("a shared buffer refuses prepend and append on every sharer") {
    Packet p = Packet::allocate(100, 64);
    p.append(10);
    Packet slice = p.share(2, 4);
    CHECK(p.headroom() == 0);
    CHECK(p.tailroom() == 0);
    CHECK(p.prepend(1).empty());
    CHECK(p.append(1).empty());
    CHECK(slice.prepend(1).empty());
    CHECK(slice.append(1).empty());
    CHECK(p.size() == 10);
    CHECK(slice.size() == 4);
    // Shrinking stays allowed: it writes nothing.
    CHECK(slice.pull(1));
    slice.trim(2);
    CHECK(slice.size() == 2);
    slice = Packet{};  // the last other sharer goes: the original may grow again
    CHECK_FALSE(p.shared());
    CHECK(p.headroom() == 64);
    CHECK(p.prepend(4).size() == 4);
}

TEST_CASE("the buffer returns to the pool when the last sharer goes") {
    Packet slice;
    std::size_t held = 0;  // free buffers while the packet exists
    {
        Packet p = Packet::allocate(100);
        held = Packet::pool_free_count();
        p.append(50)[20] = 0xab;
        slice = p.share(20, 10);
    }
    CHECK(Packet::pool_free_count() == held);  // the slice still holds it
    CHECK(slice.use_count() == 1);
    CHECK(slice.data()[0] == 0xab);
    Packet moved = std::move(slice);
    CHECK_FALSE(slice);
    CHECK(moved.use_count() == 1);
    moved = Packet{};
    CHECK(Packet::pool_free_count() == held + 1);
}

TEST_CASE("buffer_bytes is the whole buffer a packet or any slice of it keeps allocated") {
    CHECK(Packet{}.buffer_bytes() == 0);
    Packet pooled = Packet::allocate(100);
    pooled.append(100);
    const std::size_t whole = pooled.buffer_bytes();
    CHECK(whole > Packet::kPooledCapacity);  // the capacity plus the reference count
    CHECK(pooled.share(10, 1).buffer_bytes() == whole);
    Packet large = Packet::allocate(10'000);
    CHECK(large.buffer_bytes() > 10'000 + Packet::kDefaultHeadroom);
    CHECK(large.buffer_bytes() < whole + 10'000 + Packet::kDefaultHeadroom);
}
