// The block driver contract (block.hpp), run against every driver of NETLOOM_BLOCK_DRIVERS on the
// epoll scheduler and checked against blk_ram holding the same image: contents, splitting beyond
// max_sectors, queueing beyond max_in_flight, completions never inside submit, refusals (EINVAL,
// EROFS) before any I/O, flush, allocate, and destruction with requests pending.
#include <algorithm>
#include <cerrno>
#include <cstdint>

#include <catch2/catch.hpp>

#include "block_drivers.hpp"
#include "epoll_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

// "" when equal, else where the first difference is (a CHECK on two 512 KiB vectors would print
// them whole).
std::string difference(const Bytes& actual, const Bytes& expected, std::uint32_t sector_size) {
    if (actual.size() != expected.size())
        return "sizes " + std::to_string(actual.size()) + " vs " + std::to_string(expected.size());
    const auto [a, e] = std::mismatch(actual.begin(), actual.end(), expected.begin());
    if (a == actual.end()) return "";
    const auto at = static_cast<std::size_t>(a - actual.begin());
    return "byte " + std::to_string(at) + " (sector " + std::to_string(at / sector_size) +
           ") differs";
}

template <typename Driver>
struct DriverRig {
    sched::EpollScheduler sched;
    BlockTestEnv env{sched};
    TempDir dir;
    DriverShape shape;
    Bytes initial;
    std::shared_ptr<BlockDevice> device;
    std::shared_ptr<BlockDevice> reference;  // blk_ram: what `device` must hold
    std::vector<std::weak_ptr<BlockDevice>> stack;
    BlockGeometry g;

    explicit DriverRig(DriverShape s = {}) : shape(s) {
        initial = pattern(shape.sectors * shape.sector_size, 1);
        const std::string image = dir.write("image.bin", initial);
        device = env.block_from_yaml(Driver::yaml(shape, image, dir));
        stack = env.built;  // the device and its inner ones
        DriverShape writable = shape;
        writable.read_only = false;
        reference = env.block_from_yaml(RamDriver::yaml(writable, image, dir));
        g = device->geometry();
    }

    std::span<std::uint8_t> sectors_of(Bytes& bytes, std::uint64_t first, std::uint64_t count) {
        return std::span<std::uint8_t>(bytes).subspan(first * g.sector_size, count * g.sector_size);
    }
    int io(BlockOp op, std::uint64_t sector, std::span<std::uint8_t> buffer) {
        return complete(sched, *device, {op, sector, buffer});
    }
    /// Writes `data` at `sector` to the device and to the reference.
    void write_both(std::uint64_t sector, Bytes data) {
        REQUIRE(io(BlockOp::write, sector, data) == 0);
        REQUIRE(complete(sched, *reference, {BlockOp::write, sector, data}) == 0);
    }
    std::string contents_difference() {
        return difference(read_all(sched, *device), read_all(sched, *reference), g.sector_size);
    }
    /// A counter of the device, or of its inner device for a decorator (the host lists both).
    std::uint64_t count(std::string_view name) {
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            if (auto d = it->lock()) {
                if (const auto value = counter(*d, name)) return *value;
            }
        }
        FAIL("the device reports no counter " << name);
        return 0;
    }
};

}  // namespace

TEMPLATE_TEST_CASE("block contract: the geometry is the shape configured", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    CHECK(rig.g.sector_size == 512);
    CHECK(rig.g.sectors == rig.shape.sectors);
    CHECK(rig.g.bytes() == rig.initial.size());
    CHECK_FALSE(rig.g.read_only);
    CHECK(rig.g.max_sectors_per_request >= 1);
    CHECK(rig.g.max_sectors_per_request <= rig.shape.max_sectors);
    CHECK(rig.g.max_in_flight >= 1);
    CHECK((rig.g.buffer_alignment & (rig.g.buffer_alignment - 1)) == 0);
    CHECK_FALSE(rig.device->describe().empty());

    DriverRig<TestType> large({.sector_size = 4096, .sectors = 64, .read_only = true});
    CHECK(large.g.sector_size == 4096);
    CHECK(large.g.sectors == 64);
    CHECK(large.g.read_only);
}

TEMPLATE_TEST_CASE("block contract: reads return the image, in any request size", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    CHECK(difference(read_all(rig.sched, *rig.device), rig.initial, 512) == "");
    CHECK(difference(read_all(rig.sched, *rig.device, 1), rig.initial, 512) == "");
    CHECK(difference(read_all(rig.sched, *rig.device, rig.shape.sectors), rig.initial, 512) == "");

    DriverRig<TestType> large({.sector_size = 4096, .sectors = 64});
    CHECK(difference(read_all(large.sched, *large.device, 3), large.initial, 4096) == "");
}

TEMPLATE_TEST_CASE("block contract: writes of every size land as in blk_ram", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    std::mt19937_64 random(11);
    const std::uint64_t most = 3 * rig.g.max_sectors_per_request + 1;
    for (int i = 0; i < 60; ++i) {
        const std::uint64_t count = 1 + random() % most;
        const std::uint64_t sector = random() % (rig.g.sectors - count + 1);
        rig.write_both(sector, pattern(count * rig.g.sector_size, 100 + i));
    }
    rig.write_both(rig.g.sectors - 1, pattern(rig.g.sector_size, 7));  // the last sector
    rig.write_both(0, pattern(rig.g.sector_size, 8));                  // the first
    CHECK(rig.contents_difference() == "");
}

TEMPLATE_TEST_CASE("block contract: a request larger than max_sectors is split and whole",
                   "[block]", NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    const std::uint64_t max = rig.g.max_sectors_per_request;
    const std::uint64_t count = 2 * max + max / 2 + 1;
    const std::uint64_t before = rig.count("operations");
    Bytes buffer(count * rig.g.sector_size);
    REQUIRE(rig.io(BlockOp::read, 5, buffer) == 0);
    CHECK(rig.count("operations") - before >= (count + max - 1) / max);
    Bytes expected(rig.sectors_of(rig.initial, 5, count).begin(),
                   rig.sectors_of(rig.initial, 5, count).end());
    CHECK(difference(buffer, expected, rig.g.sector_size) == "");

    rig.write_both(17, pattern(count * rig.g.sector_size, 5));
    CHECK(rig.contents_difference() == "");
}

TEMPLATE_TEST_CASE("block contract: requests beyond max_in_flight wait and all complete once",
                   "[block]", NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    // Disjoint ranges, so the outcome does not depend on the order the device runs them in.
    const std::uint64_t span = rig.g.max_sectors_per_request + 2;  // split in two operations
    const std::size_t requests = 3 * rig.g.max_in_flight + 5;
    REQUIRE(requests * span <= rig.g.sectors);
    std::vector<Bytes> buffers;
    std::vector<Outcome> outcomes(requests);
    Bytes expected = rig.initial;
    for (std::size_t i = 0; i < requests; ++i) {
        const std::uint64_t sector = i * span;
        if (i % 2 == 0) {
            buffers.push_back(Bytes(span * rig.g.sector_size));
        } else {
            buffers.push_back(pattern(span * rig.g.sector_size, 1000 + i));
            std::copy(buffers.back().begin(), buffers.back().end(),
                      expected.begin() + static_cast<std::ptrdiff_t>(sector * rig.g.sector_size));
        }
    }
    for (std::size_t i = 0; i < requests; ++i) {
        rig.device->submit({i % 2 == 0 ? BlockOp::read : BlockOp::write, i * span, buffers[i]},
                           outcomes[i].callback());
    }
    REQUIRE(run_until(rig.sched, [&] {
        return std::all_of(outcomes.begin(), outcomes.end(),
                           [](const Outcome& o) { return o.completed; });
    }));
    run_for(rig.sched, 5ms);  // a second completion of any request would show now
    for (std::size_t i = 0; i < requests; ++i) {
        INFO("request " << i);
        CHECK(outcomes[i].error == 0);
        CHECK(outcomes[i].calls == 1);
        if (i % 2 == 0) {
            Bytes want(rig.sectors_of(rig.initial, i * span, span).begin(),
                       rig.sectors_of(rig.initial, i * span, span).end());
            CHECK(difference(buffers[i], want, rig.g.sector_size) == "");
        }
    }
    CHECK(rig.count("in_flight_peak") >= 1);
    CHECK(rig.count("in_flight_peak") <= rig.g.max_in_flight);
    CHECK(difference(read_all(rig.sched, *rig.device), expected, rig.g.sector_size) == "");
}

TEMPLATE_TEST_CASE("block contract: no completion runs inside submit", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    Bytes sectors(3 * rig.g.sector_size);
    Bytes odd(rig.g.sector_size + 1);
    const BlockRequest requests[] = {
        {BlockOp::read, 0, sectors},
        {BlockOp::write, 3, sectors},
        {BlockOp::flush, 0, {}},
        {BlockOp::read, 0, odd},                   // EINVAL
        {BlockOp::write, rig.g.sectors, sectors},  // EINVAL
        {BlockOp::read, 0, {}},                    // no sectors
    };
    bool inside = false;
    int completed = 0, completed_inside = 0;
    for (const BlockRequest& r : requests) {
        inside = true;
        rig.device->submit(r, [&](int) {
            ++completed;
            if (inside) ++completed_inside;
        });
        inside = false;
    }
    REQUIRE(run_until(rig.sched, [&] { return completed == 6; }));
    CHECK(completed_inside == 0);
}

TEMPLATE_TEST_CASE("block contract: buffers of partial sectors are refused with EINVAL", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    for (std::size_t size :
         {std::size_t{1}, std::size_t{511}, std::size_t{513}, std::size_t{1000}}) {
        INFO("size " << size);
        Bytes buffer(size, 0xaa);
        CHECK(rig.io(BlockOp::read, 0, buffer) == EINVAL);
        CHECK(std::all_of(buffer.begin(), buffer.end(), [](std::uint8_t b) { return b == 0xaa; }));
        CHECK(rig.io(BlockOp::write, 0, buffer) == EINVAL);
    }
    CHECK(rig.count("refused_einval") == 8);
    CHECK(difference(read_all(rig.sched, *rig.device), rig.initial, 512) == "");
    Bytes none;
    CHECK(rig.io(BlockOp::read, 0, none) == 0);  // zero sectors is a whole number
}

TEMPLATE_TEST_CASE("block contract: buffers at any address work", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    const std::uint64_t count = rig.g.max_sectors_per_request + 3;
    for (std::size_t offset : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{100}}) {
        INFO("offset " << offset);
        Bytes storage(count * rig.g.sector_size + offset);
        auto buffer = std::span<std::uint8_t>(storage).subspan(offset, count * rig.g.sector_size);
        REQUIRE(rig.io(BlockOp::read, 9, buffer) == 0);
        CHECK(std::equal(buffer.begin(), buffer.end(),
                         rig.sectors_of(rig.initial, 9, count).begin()));

        const Bytes data = pattern(buffer.size(), offset);
        std::copy(data.begin(), data.end(), buffer.begin());
        REQUIRE(rig.io(BlockOp::write, 40 + offset, buffer) == 0);
        REQUIRE(complete(rig.sched, *rig.reference, {BlockOp::write, 40 + offset, buffer}) == 0);
    }
    CHECK(rig.contents_difference() == "");
}

TEMPLATE_TEST_CASE("block contract: ranges past the capacity are refused with EINVAL", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    const std::uint64_t end = rig.g.sectors;
    Bytes one(rig.g.sector_size), two(2 * rig.g.sector_size, 0x55), none;
    CHECK(rig.io(BlockOp::read, end - 1, one) == 0);  // the last sector is inside
    CHECK(rig.io(BlockOp::read, end, one) == EINVAL);
    CHECK(rig.io(BlockOp::read, end - 1, two) == EINVAL);
    CHECK(rig.io(BlockOp::read, UINT64_MAX, one) == EINVAL);
    CHECK(rig.io(BlockOp::read, UINT64_MAX / 512 + 1, one) == EINVAL);  // overflows in bytes
    CHECK(rig.io(BlockOp::read, end + 1, none) == EINVAL);
    CHECK(rig.io(BlockOp::write, end - 1, two) == EINVAL);
    CHECK(rig.io(BlockOp::write, end, one) == EINVAL);
    CHECK(difference(read_all(rig.sched, *rig.device), rig.initial, 512) == "");
}

TEMPLATE_TEST_CASE("block contract: a read-only device refuses writes with EROFS", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig({.read_only = true});
    REQUIRE(rig.g.read_only);
    Bytes data = pattern(4 * rig.g.sector_size, 9);
    CHECK(rig.io(BlockOp::write, 0, data) == EROFS);
    CHECK(rig.io(BlockOp::write, rig.g.sectors, data) == EINVAL);  // EINVAL is checked first
    CHECK(rig.io(BlockOp::flush, 0, {}) == 0);
    CHECK(rig.count("refused_erofs") == 1);
    CHECK(difference(read_all(rig.sched, *rig.device), rig.initial, 512) == "");
}

TEMPLATE_TEST_CASE("block contract: a flush completes, covering the writes completed before it",
                   "[block]", NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    rig.write_both(4, pattern(3 * rig.g.sector_size, 4));
    CHECK(rig.io(BlockOp::flush, 0, {}) == 0);
    // Writes still in flight when a flush is submitted: everything completes, once.
    std::vector<Bytes> data;
    std::vector<Outcome> outcomes(5);
    for (int i = 0; i < 4; ++i) data.push_back(pattern(2 * rig.g.sector_size, 50 + i));
    for (int i = 0; i < 4; ++i)
        rig.device->submit({BlockOp::write, 100u + 2u * i, data[i]}, outcomes[i].callback());
    rig.device->submit({BlockOp::flush, 0, {}}, outcomes[4].callback());
    REQUIRE(run_until(rig.sched, [&] {
        return std::all_of(outcomes.begin(), outcomes.end(),
                           [](const Outcome& o) { return o.completed; });
    }));
    for (const Outcome& o : outcomes) CHECK(o.error == 0);
    for (int i = 0; i < 4; ++i)
        REQUIRE(complete(rig.sched, *rig.reference, {BlockOp::write, 100u + 2u * i, data[i]}) == 0);
    CHECK(rig.contents_difference() == "");
}

TEMPLATE_TEST_CASE("block contract: allocate gives aligned memory that may go before its request",
                   "[block]", NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    BlockBuffer buffer = rig.device->allocate(3 * rig.g.sector_size);
    REQUIRE(buffer.size() >= 3 * rig.g.sector_size);
    CHECK(reinterpret_cast<std::uintptr_t>(buffer.data()) % rig.g.buffer_alignment == 0);
    auto span = buffer.span().first(3 * rig.g.sector_size);
    REQUIRE(rig.io(BlockOp::read, 20, span) == 0);
    CHECK(std::equal(span.begin(), span.end(), rig.sectors_of(rig.initial, 20, 3).begin()));

    Outcome outcome;
    {
        BlockBuffer released = rig.device->allocate(2 * rig.g.sector_size);
        rig.device->submit({BlockOp::read, 30, released.span().first(2 * rig.g.sector_size)},
                           outcome.callback());
    }  // released while the read is pending (block.hpp allows it)
    REQUIRE(run_until(rig.sched, [&] { return outcome.completed; }));
    CHECK(outcome.error == 0);
}

TEMPLATE_TEST_CASE("block contract: destroying the device abandons pending requests", "[block]",
                   NETLOOM_BLOCK_DRIVERS) {
    DriverRig<TestType> rig;
    const std::size_t requests = 3 * rig.g.max_in_flight + 2;
    std::vector<BlockBuffer> buffers;
    int calls = 0;
    bool destroy_on_completion = false;
    const auto callback = [&](int) {
        ++calls;
        if (destroy_on_completion) rig.device.reset();
    };
    for (std::size_t i = 0; i < requests; ++i) {
        buffers.push_back(rig.device->allocate(2 * rig.g.sector_size));
        rig.device->submit({i % 3 == 2 ? BlockOp::write : BlockOp::read, 2 * i,
                            buffers.back().span().first(2 * rig.g.sector_size)},
                           callback);
    }
    rig.device->submit({BlockOp::read, rig.g.sectors, buffers[0].span().first(512)},
                       callback);  // a refusal is pending too
    SECTION("before any completion") {
        rig.device.reset();
        run_for(rig.sched, 20ms);
        CHECK(calls == 0);
    }
    SECTION("from inside the first completion") {
        destroy_on_completion = true;
        REQUIRE(run_until(rig.sched, [&] { return calls > 0; }));
        run_for(rig.sched, 20ms);
        CHECK(calls == 1);
        CHECK_FALSE(rig.device);
    }
}
