// blk_faults over blk_ram under a virtual clock: EIO exactly on the chosen sectors, for reads
// and writes apart; seeded rates that replay; latency and jitter measured in virtual time;
// refusals passed through; destruction with delayed completions pending.
#include <cerrno>

#include <catch2/catch.hpp>

#include "block_drivers.hpp"
#include "manual_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

struct FaultsRig {
    ManualScheduler sched;
    BlockTestEnv env{sched};
    std::shared_ptr<BlockDevice> device;
    std::shared_ptr<block::RamBlockDevice> inner;

    explicit FaultsRig(const std::string& keys, const std::string& inner_keys = "size: 64KiB") {
        device = env.block_from_yaml("{use: blk_faults, " + keys + ", inner: {use: blk_ram, " +
                                     inner_keys + "}}");
        inner = std::dynamic_pointer_cast<block::RamBlockDevice>(env.built.front().lock());
        REQUIRE(inner);
    }
    int io(BlockOp op, std::uint64_t sector, std::span<std::uint8_t> buffer) {
        Outcome outcome;
        device->submit({op, sector, buffer}, outcome.callback());
        sched.run();  // the virtual clock jumps to each timer
        REQUIRE(outcome.completed);
        return outcome.error;
    }
    int read(std::uint64_t sector, std::uint64_t count = 1) {
        Bytes buffer(count * 512);
        return io(BlockOp::read, sector, buffer);
    }
    int write(std::uint64_t sector, std::uint64_t count = 1, std::uint8_t fill = 0xee) {
        Bytes buffer(count * 512, fill);
        return io(BlockOp::write, sector, buffer);
    }
    std::uint64_t count(std::string_view name) { return counter(*device, name).value(); }
};

// Which of `reads` one-sector reads (sector i % 64) fail, with these keys.
std::vector<bool> failures(const std::string& keys, int reads = 400) {
    FaultsRig rig(keys);
    std::vector<bool> out;
    for (int i = 0; i < reads; ++i) out.push_back(rig.read(i % 64) == EIO);
    return out;
}

}  // namespace

TEST_CASE("blk_faults: EIO exactly on the chosen sectors, reads and writes apart") {
    FaultsRig rig("read_errors: [5, '10-12'], write_errors: ['20']");
    for (std::uint64_t s = 0; s < 64; ++s) {
        INFO("sector " << s);
        const bool bad = s == 5 || (s >= 10 && s <= 12);
        CHECK(rig.read(s) == (bad ? EIO : 0));
        CHECK(rig.write(s) == (s == 20 ? EIO : 0));
    }
    CHECK(rig.read(0, 5) == 0);
    CHECK(rig.read(0, 6) == EIO);   // reaches sector 5
    CHECK(rig.read(12, 4) == EIO);  // starts on the last bad one
    CHECK(rig.read(13, 51) == 0);
    CHECK(rig.write(16, 8) == EIO);  // covers sector 20
    CHECK(rig.count("faults_read_sector_eio") == 64 - 60 + 2);
    CHECK(rig.count("faults_write_sector_eio") == 2);
}

TEST_CASE("blk_faults: a failed write leaves the contents, a failed read the buffer") {
    FaultsRig rig("read_errors: ['3'], write_errors: ['8-9']");
    REQUIRE(rig.write(8, 1, 0x11) == EIO);
    CHECK(rig.inner->contents()[8 * 512] == 0);
    REQUIRE(rig.write(3, 1, 0x22) == 0);
    Bytes buffer(512, 0x77);
    REQUIRE(rig.io(BlockOp::read, 3, buffer) == EIO);
    CHECK(buffer[0] == 0x77);
    CHECK(counter(*rig.inner, "write_requests") == 1);  // the failed write never reached it
}

TEST_CASE("blk_faults: refusals stay refusals, never EIO") {
    FaultsRig rig("read_error_rate: 1, write_error_rate: 1, read_errors: ['0-200']",
                  "size: 32KiB, read_only: true");
    Bytes one(512), odd(100);
    CHECK(rig.io(BlockOp::read, 64, one) == EINVAL);
    CHECK(rig.io(BlockOp::read, 0, odd) == EINVAL);
    CHECK(rig.io(BlockOp::write, 0, one) == EROFS);
    CHECK(rig.io(BlockOp::flush, 0, {}) == 0);
    CHECK(rig.io(BlockOp::read, 0, one) == EIO);
}

TEST_CASE("blk_faults: seeded rates replay exactly, and other seeds differ") {
    const auto first = failures("seed: 7, read_error_rate: 0.25");
    CHECK(first == failures("seed: 7, read_error_rate: 0.25"));
    CHECK(first != failures("seed: 8, read_error_rate: 0.25"));
    const auto failed = std::count(first.begin(), first.end(), true);
    CHECK(failed > 60);  // 100 expected of 400; the bounds are > 5 standard deviations away
    CHECK(failed < 140);
    // Two draws per request whatever the settings: jitter and write rates change nothing here.
    CHECK(first == failures("seed: 7, read_error_rate: 0.25, write_error_rate: 0.9, jitter: 1ms"));
    FaultsRig rig("seed: 7, read_error_rate: 0.25");
    for (int i = 0; i < 400; ++i) rig.read(i % 64);
    CHECK(rig.count("faults_read_random_eio") == static_cast<std::uint64_t>(failed));
}

TEST_CASE("blk_faults: latency and jitter are virtual time, reproducible") {
    SECTION("fixed latency") {
        FaultsRig rig("latency: 2ms");
        Outcome outcome;
        Bytes buffer(512);
        const Time start = rig.sched.now();
        rig.device->submit({BlockOp::read, 0, buffer}, outcome.callback());
        rig.sched.advance(2ms - 1ns);
        CHECK_FALSE(outcome.completed);
        CHECK(rig.count("faults_delayed_current") == 1);
        rig.sched.advance(1ns);
        CHECK(outcome.completed);
        CHECK(rig.sched.now() - start == 2ms);
        // Flushes and injected errors wait as long.
        Outcome flush;
        rig.device->submit({BlockOp::flush, 0, {}}, flush.callback());
        rig.sched.advance(2ms - 1ns);
        CHECK_FALSE(flush.completed);
        rig.sched.advance(1ns);
        CHECK(flush.completed);
    }
    SECTION("jitter") {
        auto delays = [](std::uint64_t seed) {
            FaultsRig rig("latency: 2ms, jitter: 1ms, seed: " + std::to_string(seed));
            std::vector<Time> out;
            for (int i = 0; i < 50; ++i) {
                const Time start = rig.sched.now();
                REQUIRE(rig.read(i) == 0);
                out.push_back(rig.sched.now() - start);
            }
            return out;
        };
        const auto first = delays(1);
        CHECK(first == delays(1));
        CHECK(first != delays(2));
        for (Time d : first) {
            CHECK(d >= 1ms);
            CHECK(d <= 3ms);
        }
        CHECK(*std::min_element(first.begin(), first.end()) < 1500us);
        CHECK(*std::max_element(first.begin(), first.end()) > 2500us);
    }
}

TEST_CASE("blk_faults: destroying it cancels its delayed completions") {
    FaultsRig rig("latency: 1ms, read_errors: ['1']");
    Bytes a(512), b(512);
    int calls = 0;
    rig.device->submit({BlockOp::read, 0, a}, [&](int) { ++calls; });
    rig.device->submit({BlockOp::read, 1, b}, [&](int) { ++calls; });  // injected EIO, delayed
    rig.sched.run_until_idle();  // the inner read completes; its delay starts
    CHECK(rig.count("faults_delayed_current") == 2);
    std::weak_ptr<BlockDevice> inner = rig.inner;
    rig.inner.reset();
    rig.device.reset();
    CHECK(inner.expired());
    CHECK(rig.sched.pending_timers() == 0);
    rig.sched.advance(5ms);
    CHECK(calls == 0);
}

TEST_CASE("blk_faults: an inner device that outlives it completes into nothing") {
    FaultsRig rig("seed: 1");
    Bytes a(512);
    int calls = 0;
    rig.device->submit({BlockOp::read, 0, a}, [&](int) { ++calls; });
    std::shared_ptr<block::RamBlockDevice> inner = rig.inner;  // kept, as a test might
    rig.device.reset();
    rig.sched.run_until_idle();
    CHECK(calls == 0);
    CHECK(counter(*inner, "bytes_read") == 512u);
}
