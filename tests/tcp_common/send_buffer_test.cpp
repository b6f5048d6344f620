// SendBuffer and ByteRing: bounded append, peek at offsets across the wrap, drop-front, lazy
// allocation and release when empty, deep copies, the per-thread cache of released storage.
#include <catch2/catch.hpp>

#include <numeric>
#include <random>
#include <vector>

#include "netloom/tcp_common/send_buffer.hpp"

using netloom::tcp::ByteRing;
using netloom::tcp::SendBuffer;

namespace {
std::vector<std::uint8_t> sequence(std::size_t n, std::uint8_t first) {
    std::vector<std::uint8_t> bytes(n);
    std::iota(bytes.begin(), bytes.end(), first);
    return bytes;
}
}  // namespace

TEST_CASE("append takes what fits, storage is allocated lazily and freed when empty",
          "[send_buffer]") {
    SendBuffer buffer(10'000);
    CHECK(buffer.heap_bytes() == 0);
    CHECK(buffer.append(sequence(4000, 0)) == 4000);
    CHECK(buffer.heap_bytes() >= 4000);
    CHECK(buffer.heap_bytes() <= 10'000);
    CHECK(buffer.append(sequence(8000, 0)) == 6000);  // bounded by the limit
    CHECK(buffer.free_space() == 0);
    CHECK(buffer.append(sequence(1, 0)) == 0);
    buffer.consume(9999);
    CHECK(buffer.size() == 1);
    CHECK(buffer.heap_bytes() > 0);
    buffer.consume(1);
    CHECK(buffer.empty());
    CHECK(buffer.heap_bytes() == 0);
}

TEST_CASE("peek copies from any offset, across the wrap", "[send_buffer]") {
    SendBuffer buffer(3000);
    const auto data = sequence(3000, 0);
    REQUIRE(buffer.append(data) == 3000);
    buffer.consume(2500);  // head near the end of the ring
    REQUIRE(buffer.append(std::span(data).first(2000)) == 2000);
    std::vector<std::uint8_t> out(2500);
    REQUIRE(buffer.peek(0, out) == 2500);
    CHECK(std::equal(out.begin(), out.begin() + 500, data.begin() + 2500));
    CHECK(std::equal(out.begin() + 500, out.end(), data.begin()));
    std::vector<std::uint8_t> tail(100);
    CHECK(buffer.peek(2450, tail) == 50);
    CHECK(std::equal(tail.begin(), tail.begin() + 50, data.begin() + 1950));
    CHECK(buffer.peek(2500, tail) == 0);
}

TEST_CASE("a copy is deep and independent", "[send_buffer]") {
    SendBuffer a(100);
    a.append(sequence(50, 1));
    SendBuffer b = a;
    a.consume(50);
    CHECK(a.heap_bytes() == 0);
    std::vector<std::uint8_t> out(50);
    REQUIRE(b.peek(0, out) == 50);
    CHECK(out == sequence(50, 1));
}

TEST_CASE("randomised appends, peeks and consumes match a simple model", "[send_buffer]") {
    std::mt19937 rng(7);
    SendBuffer buffer(5000);
    std::vector<std::uint8_t> model;
    std::uint8_t next = 0;
    for (int round = 0; round < 3000; ++round) {
        const std::size_t add = std::uniform_int_distribution<std::size_t>(0, 3000)(rng);
        std::vector<std::uint8_t> bytes(add);
        for (auto& b : bytes) b = next++;
        const std::size_t taken = buffer.append(bytes);
        CHECK(taken == std::min(add, 5000 - model.size()));
        model.insert(model.end(), bytes.begin(), bytes.begin() + taken);
        REQUIRE(buffer.size() == model.size());
        if (!model.empty()) {
            const auto offset = std::uniform_int_distribution<std::uint32_t>(
                0, static_cast<std::uint32_t>(model.size() - 1))(rng);
            std::vector<std::uint8_t> out(std::uniform_int_distribution<std::size_t>(1, 2000)(rng));
            const std::size_t n = buffer.peek(offset, out);
            REQUIRE(n == std::min(out.size(), model.size() - offset));
            CHECK(std::equal(out.begin(), out.begin() + n, model.begin() + offset));
        }
        const auto drop = std::uniform_int_distribution<std::uint32_t>(
            0, static_cast<std::uint32_t>(model.size()))(rng);
        buffer.consume(drop);
        model.erase(model.begin(), model.begin() + drop);
        CHECK((buffer.heap_bytes() == 0) == model.empty());
    }
}

TEST_CASE("ByteRing keeps the live prefix in order when it grows", "[send_buffer]") {
    ByteRing ring;
    ring.reserve(2048, 0, 1 << 20);
    const auto data = sequence(2048, 3);
    ring.write(0, data);
    ring.advance(2000);  // head near the end: the live bytes wrap after the next writes
    ring.write(48, std::span(data).first(1000));
    ring.reserve(10'000, 1048, 1 << 20);
    CHECK(ring.allocated() >= 10'000);
    std::vector<std::uint8_t> out(1048);
    ring.read(0, out);
    CHECK(std::equal(out.begin(), out.begin() + 48, data.begin() + 2000));
    CHECK(std::equal(out.begin() + 48, out.end(), data.begin()));
}

TEST_CASE("a released ring takes storage of its old size back from the thread's cache",
          "[send_buffer]") {
    ByteRing ring;
    ring.reserve(100'000, 0, 1 << 20);
    const std::uint32_t size = ring.allocated();
    REQUIRE(size >= 100'000);
    const std::size_t cached = ByteRing::cached_blocks();
    ring.release();
    CHECK(ring.allocated() == 0);
    CHECK(ByteRing::cached_blocks() == std::min(cached + 1, ByteRing::kCacheBlocks));
    ring.reserve(10, 0, 1 << 20);  // from empty: the old size at once, no regrowth from 2 KiB
    CHECK(ring.allocated() == size);
    CHECK(ByteRing::cached_blocks() <= cached);
    ring.release();
    ring.reserve(10, 0, 4096);  // a lower limit wins over the remembered size
    CHECK(ring.allocated() == 4096);
}

TEST_CASE("the ring cache is bounded in blocks and bytes", "[send_buffer]") {
    std::vector<ByteRing> rings(ByteRing::kCacheBlocks + 4);
    for (auto& ring : rings) ring.reserve(300'000, 0, 1 << 20);
    for (auto& ring : rings) ring.release();
    CHECK(ByteRing::cached_blocks() <= ByteRing::kCacheBlocks);
    CHECK(ByteRing::cached_bytes() <= ByteRing::kCacheBytes);
    ByteRing huge;
    huge.reserve(static_cast<std::uint32_t>(ByteRing::kCacheBytes) + 1, 0, 1u << 30);
    huge.release();  // larger than the whole cache: freed
    CHECK(ByteRing::cached_bytes() <= ByteRing::kCacheBytes);
}
