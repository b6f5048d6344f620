// ReassemblyBuffer's storage: bytes given with their packet are held as slices of it (no copy
// until read()), in order and out of order; overlapping copies (the newest wins, slices and ring
// alike); the fallback into the ring when the slice table is full or the packet memory held
// would pass pin_limit() (1-byte segments), what heap_bytes() counts, and copies that share.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "netloom/packet.hpp"
#include "netloom/tcp_common/reassembly_buffer.hpp"

using netloom::Packet;
using netloom::tcp::ReassemblyBuffer;
using netloom::tcp::SliceTable;

namespace {

/// The byte at stream offset `i` as sent the `generation`th time (0: first).
std::uint8_t byte_at(std::uint64_t i, std::uint32_t generation = 0) {
    return static_cast<std::uint8_t>(i * 13 + generation * 101);
}

/// A received packet: a header's worth of other bytes, then the payload for stream offsets
/// [stream, stream + n).
Packet packet_at(std::uint64_t stream, std::size_t n, std::uint32_t generation = 0) {
    Packet p = Packet::allocate(40 + n);
    auto bytes = p.append(40 + n);
    std::fill_n(bytes.begin(), 40, std::uint8_t{0xee});
    for (std::size_t i = 0; i < n; ++i) bytes[40 + i] = byte_at(stream + i, generation);
    p.pull(20);  // like the IP layer: the slice's offset is from data(), not the buffer
    return p;
}

std::span<const std::uint8_t> payload(const Packet& p) {
    return p.bytes().subspan(20);
}

std::vector<std::uint8_t> read_all(ReassemblyBuffer& buffer) {
    std::vector<std::uint8_t> out(buffer.readable());
    out.resize(buffer.read(out));
    return out;
}

std::vector<std::uint8_t> expected(std::uint64_t stream, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = byte_at(stream + i);
    return out;
}

}  // namespace

TEST_CASE("in-order bytes are held as slices of their packets until read", "[reassembly]") {
    ReassemblyBuffer buffer(64 * 1024);
    std::vector<Packet> packets;
    packets.reserve(10);
    for (std::uint32_t i = 0; i < 10; ++i) {
        packets.push_back(packet_at(i * 1000, 1000));
        // Offset 0: in order (offsets count from RCV.NXT, which each insert moves on).
        CHECK(buffer.insert(0, payload(packets.back()), &packets.back()).advanced == 1000);
    }
    CHECK(buffer.slice_count() == 10);
    CHECK(buffer.copied_bytes() == 0);
    for (const Packet& p : packets) CHECK(p.use_count() == 2);  // held, not copied
    CHECK(buffer.pinned_bytes() == 10 * packets[0].buffer_bytes());
    CHECK(buffer.heap_bytes() >= buffer.pinned_bytes());
    // A read across slice boundaries copies straight out of the packets.
    std::vector<std::uint8_t> out(2500);
    CHECK(buffer.read(out) == 2500);
    CHECK(out == expected(0, 2500));
    CHECK(packets[0].use_count() == 1);
    CHECK(packets[1].use_count() == 1);
    CHECK(packets[2].use_count() == 2);  // half read: still held
    CHECK(buffer.slice_count() == 8);
    CHECK(read_all(buffer) == expected(2500, 7500));
    for (const Packet& p : packets) CHECK(p.use_count() == 1);
    CHECK(buffer.heap_bytes() == 0);
    CHECK(buffer.copied_bytes() == 0);
}

TEST_CASE("a full window of MSS-sized segments is held without a copy", "[reassembly]") {
    // Each 1448-byte payload sits in a pooled 2 KiB buffer: the window's worth of them pins
    // ~1.4 x the window, within pin_limit().
    const std::uint32_t capacity = 256 * 1024;
    ReassemblyBuffer buffer(capacity);
    std::uint32_t stored = 0;
    while (buffer.window_space() > 0) {
        const Packet p = packet_at(stored, 1448);
        stored += buffer.insert(0, payload(p), &p).stored;
    }
    CHECK(stored == capacity);
    CHECK(buffer.copied_bytes() == 0);
    CHECK(buffer.slice_count() == (capacity + 1447) / 1448);
    CHECK(buffer.pinned_bytes() > capacity);
    CHECK(buffer.pinned_bytes() <= buffer.pin_limit());
    CHECK(read_all(buffer) == expected(0, capacity));
}

TEST_CASE("the packets outlive the segment that brought them", "[reassembly]") {
    ReassemblyBuffer buffer(64 * 1024);
    {
        const Packet p = packet_at(0, 1400);
        buffer.insert(0, payload(p), &p);
    }  // the driver's Packet is gone; the slice keeps its buffer
    CHECK(read_all(buffer) == expected(0, 1400));
}

TEST_CASE("out-of-order slices are read back in stream order", "[reassembly]") {
    ReassemblyBuffer buffer(64 * 1024);
    std::vector<Packet> packets;
    packets.reserve(5);
    for (const std::uint32_t at : {3000u, 1000u, 4000u, 2000u}) {
        packets.push_back(packet_at(at, 1000));
        CHECK(buffer.insert(at, payload(packets.back()), &packets.back()).advanced == 0);
    }
    CHECK(buffer.slice_count() == 4);
    packets.push_back(packet_at(0, 1000));
    const auto fill = buffer.insert(0, payload(packets.back()), &packets.back());
    CHECK(fill.advanced == 5000);
    CHECK(fill.filled_hole);
    CHECK(read_all(buffer) == expected(0, 5000));
    CHECK(buffer.copied_bytes() == 0);
}

TEST_CASE("without a packet, or with bytes outside it, the bytes are copied into the ring",
          "[reassembly]") {
    ReassemblyBuffer buffer(64 * 1024);
    const Packet p = packet_at(0, 1000);
    buffer.insert(0, payload(p));  // no holder
    const Packet other = packet_at(1000, 1000);
    buffer.insert(0, payload(other), &p);  // the holder does not contain these bytes
    CHECK(buffer.slice_count() == 0);
    CHECK(buffer.copied_bytes() == 2000);
    CHECK(p.use_count() == 1);
    CHECK(read_all(buffer) == expected(0, 2000));
}

TEST_CASE("overlapping copies: the one stored last wins, in slices and ring alike",
          "[reassembly]") {
    // Out-of-order data is stored at [1000, 2000) as generation 0, then overlapped by newer
    // copies (generation 1, 2...) through every case: covering a slice's tail, its head, the
    // middle of it (a split), several slices at once, a ring range, and a ring range by a slice.
    struct Store {
        std::uint32_t at, length;
        bool as_slice;
    };
    const std::vector<std::vector<Store>> cases = {
        {{1000, 1000, true}, {1500, 1000, true}},                      // tail
        {{1000, 1000, true}, {500, 1000, true}},                       // head
        {{1000, 1000, true}, {1200, 300, true}},                       // middle: split
        {{1000, 300, true}, {1400, 300, true}, {1100, 800, true}},     // several
        {{1000, 1000, false}, {1200, 300, true}},                      // slice over ring
        {{1000, 1000, true}, {1200, 300, false}},                      // ring over slice
        {{1000, 1000, true}, {1000, 1000, true}, {1000, 1000, true}},  // exact duplicates
    };
    for (std::size_t c = 0; c < cases.size(); ++c) {
        CAPTURE(c);
        ReassemblyBuffer buffer(64 * 1024);
        std::vector<std::uint8_t> model(3000, 0);
        std::vector<Packet> packets;
        packets.reserve(8);
        for (std::uint32_t generation = 0; generation < cases[c].size(); ++generation) {
            const Store& s = cases[c][generation];
            packets.push_back(packet_at(s.at, s.length, generation));
            buffer.insert(s.at, payload(packets.back()), s.as_slice ? &packets.back() : nullptr);
            for (std::uint32_t i = s.at; i < s.at + s.length; ++i)
                model[i] = byte_at(i, generation);
        }
        // The newest copy of all: [0, 1000) in order (overlapping the "head" case's store).
        const Packet first = packet_at(0, 1000);
        buffer.insert(0, payload(first), &first);
        for (std::size_t i = 0; i < 1000; ++i) model[i] = byte_at(i);
        std::uint32_t end = 0;
        for (const Store& s : cases[c]) end = std::max(end, s.at + s.length);
        const std::vector<std::uint8_t> out = read_all(buffer);
        model.resize(end);
        CHECK(out == model);
        for (const Packet& p : packets) CHECK(p.use_count() == 1);  // every slice let go
    }
}

TEST_CASE("a full slice table collapses into the ring, which holds until the buffer drains",
          "[reassembly]") {
    const std::uint32_t n = SliceTable::kMaxEntries;
    ReassemblyBuffer buffer(1 << 20);
    std::vector<Packet> packets;
    packets.reserve(n + 3);
    // 100-byte segments out of order (the first 100 missing), touching, so they make one range:
    // [100, 200), [200, 300)... each its own slice.
    for (std::uint32_t i = 1; i <= n; ++i) {
        packets.push_back(packet_at(i * 100, 100));
        REQUIRE(buffer.insert(i * 100, payload(packets.back()), &packets.back()).stored == 100);
    }
    CHECK(buffer.slice_count() == n);
    CHECK(buffer.copied_bytes() == 0);
    // A newer copy inside one held slice would split it: one slice too many. Everything held
    // moves into the ring, then the newer bytes overwrite their part (the newest still wins).
    packets.push_back(packet_at(520, 30, 1));
    buffer.insert(520, payload(packets.back()), &packets.back());
    CHECK(buffer.slice_count() == 0);
    CHECK(buffer.copied_bytes() == n * 100 + 30);
    for (const Packet& p : packets) CHECK(p.use_count() == 1);
    // Until the buffer drains, the ring holds everything, with or without a packet.
    packets.push_back(packet_at((n + 1) * 100, 100));
    buffer.insert((n + 1) * 100, payload(packets.back()), &packets.back());
    CHECK(buffer.slice_count() == 0);
    CHECK(buffer.copied_bytes() == n * 100 + 30 + 100);
    const Packet first = packet_at(0, 100);
    CHECK(buffer.insert(0, payload(first), &first).advanced == (n + 2) * 100);
    std::vector<std::uint8_t> want = expected(0, (n + 2) * 100);
    for (std::uint32_t i = 520; i < 550; ++i) want[i] = byte_at(i, 1);
    CHECK(read_all(buffer) == want);
    CHECK(buffer.heap_bytes() == 0);
    // Drained: the next packet is held as a slice again.
    packets.push_back(packet_at((n + 2) * 100, 100));
    buffer.insert(0, payload(packets.back()), &packets.back());
    CHECK(buffer.slice_count() == 1);
    CHECK(read_all(buffer) == expected((n + 2) * 100, 100));
}

TEST_CASE("1-byte segments pin at most pin_limit() of packet memory, then the ring holds",
          "[reassembly]") {
    // A hostile peer sends one byte per packet: each would pin a whole buffer (2 KiB for one
    // byte). Once the held buffers would pass pin_limit(), the bytes are copied into the ring.
    const std::uint32_t capacity = 16 * 1024;
    ReassemblyBuffer buffer(capacity);
    const std::size_t bound = buffer.pin_limit() +
                              SliceTable::kMaxEntries * sizeof(SliceTable::Slice) +
                              ReassemblyBuffer::kMaxRanges * sizeof(ReassemblyBuffer::Range);
    std::size_t most_pinned = 0, most_held = 0, most_slices = 0;
    for (std::uint32_t i = 0; i < capacity; ++i) {
        const Packet p = packet_at(i, 1);
        REQUIRE(buffer.insert(0, payload(p), &p).advanced == 1);
        most_pinned = std::max(most_pinned, buffer.pinned_bytes());
        most_held = std::max(most_held, buffer.heap_bytes());
        most_slices = std::max<std::size_t>(most_slices, buffer.slice_count());
    }
    CHECK(buffer.readable() == capacity);
    CHECK(most_pinned <= buffer.pin_limit());
    CHECK(most_slices == buffer.pin_limit() / packet_at(0, 1).buffer_bytes());
    CHECK(most_held <= bound);
    CHECK(buffer.heap_bytes() <= capacity + bound - buffer.pin_limit());  // collapsed: the ring
    CHECK(buffer.slice_count() == 0);
    CHECK(buffer.copied_bytes() == capacity);
    CHECK(read_all(buffer) == expected(0, capacity));
    CHECK(buffer.heap_bytes() == 0);
}

TEST_CASE("copying a buffer shares its slices, and each copy reads on its own", "[reassembly]") {
    ReassemblyBuffer a(64 * 1024);
    const Packet p0 = packet_at(0, 1000);
    const Packet p2 = packet_at(2000, 1000);
    a.insert(0, payload(p0), &p0);
    a.insert(1000, payload(p2), &p2);  // stream 2000: 1000 past RCV.NXT
    CHECK(p0.use_count() == 2);
    ReassemblyBuffer b = a;
    CHECK(p0.use_count() == 3);  // shared again, not copied
    CHECK(p2.use_count() == 3);
    CHECK(b.copied_bytes() == 0);
    CHECK(b.slice_count() == 2);
    const Packet p1 = packet_at(1000, 1000);
    CHECK(b.insert(0, payload(p1), &p1).advanced == 2000);  // offsets from b's RCV.NXT (1000)
    CHECK(read_all(b) == expected(0, 3000));
    CHECK(p0.use_count() == 2);
    std::vector<std::uint8_t> half(500);
    CHECK(a.read(half) == 500);  // a is untouched by b's reads
    CHECK(half == expected(0, 500));
    a = b;  // b is empty: a lets its slices go
    CHECK(p0.use_count() == 1);
    CHECK(p2.use_count() == 1);
    CHECK(a.heap_bytes() == 0);
}

TEST_CASE("accept() then store(): the split halves, and a store outside is refused",
          "[reassembly]") {
    ReassemblyBuffer buffer(8000);
    const Packet p = packet_at(0, 1000);
    const auto result = buffer.accept(0, 1000);
    CHECK(result.advanced == 1000);
    CHECK_FALSE(buffer.store(result.position + 1, payload(p), &p));  // past what was accepted
    CHECK(buffer.store(result.position, payload(p), &p));
    CHECK(buffer.slice_count() == 1);
    CHECK(read_all(buffer) == expected(0, 1000));
    // Accepted, never stored: a read hands out zeros, never memory outside the buffer.
    buffer.accept(0, 100);
    CHECK(read_all(buffer) == std::vector<std::uint8_t>(100, 0));
}

TEST_CASE("randomised slices, copies and overlaps against a newest-wins model", "[reassembly]") {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 10; ++trial) {
        const std::uint32_t capacity = 3000 + trial * 1499;
        ReassemblyBuffer buffer(capacity);
        std::map<std::uint64_t, std::uint8_t> model;  // out-of-order stream offset -> newest byte
        std::vector<std::uint8_t> in_order;           // every byte that reached RCV.NXT
        std::uint64_t rcv_nxt = 0, read_pos = 0;
        std::vector<std::uint8_t> delivered;
        for (std::uint32_t step = 0; step < 3000; ++step) {
            if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
                std::vector<std::uint8_t> out(
                    std::uniform_int_distribution<std::size_t>(1, 2000)(rng));
                out.resize(buffer.read(out));
                delivered.insert(delivered.end(), out.begin(), out.end());
                read_pos += out.size();
                continue;
            }
            const auto offset = std::uniform_int_distribution<std::uint32_t>(0, capacity)(rng);
            const auto length = std::uniform_int_distribution<std::uint32_t>(1, 1500)(rng);
            const bool with_packet = std::uniform_int_distribution<int>(0, 4)(rng) != 0;
            const Packet p = packet_at(rcv_nxt + offset, length, step);
            const auto result = buffer.insert(offset, payload(p), with_packet ? &p : nullptr);
            for (std::uint64_t i = 0; i < result.stored; ++i)
                model[rcv_nxt + offset + i] = byte_at(rcv_nxt + offset + i, step);
            while (!model.empty() && model.begin()->first == rcv_nxt) {
                in_order.push_back(model.begin()->second);
                model.erase(model.begin());
                ++rcv_nxt;
            }
            REQUIRE(buffer.readable() == rcv_nxt - read_pos);
            REQUIRE(buffer.pinned_bytes() <= buffer.pin_limit());
            REQUIRE(buffer.slice_count() <= SliceTable::kMaxEntries);
        }
        std::vector<std::uint8_t> rest = read_all(buffer);
        delivered.insert(delivered.end(), rest.begin(), rest.end());
        CHECK(delivered == in_order);
        buffer.clear();  // out-of-order slices too
        CHECK(buffer.pinned_bytes() == 0);
        CHECK(buffer.heap_bytes() == 0);
    }
}
