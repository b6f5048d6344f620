// block_drivers.hpp — the block drivers the contract suite (block_contract_test.cpp) runs against,
// each as a trait: its plugin name, its factory, and the YAML of a device of a given shape whose
// initial contents are a given image file.
//
// Contract: a driver joins the suite with one trait struct and one entry in NETLOOM_BLOCK_DRIVERS
// (and its _impl library in tests/block/CMakeLists.txt; blk_uring's only where liburing is, which
// NETLOOM_TEST_BLK_URING says). `yaml(shape, image, dir)` describes a
// device of `shape.sectors` sectors of `shape.sector_size` bytes holding the bytes of `image` (a
// file of exactly that size; copy it into `dir` to write to it), read-only when `shape.read_only`,
// with the limits of `shape` where the driver lets them be chosen (it advertises what it does in
// geometry(); the suite checks against that). Every driver reports the BlockQueue counters
// `operations` and `in_flight_peak` (block/common/block_queue.hpp): the suite reads them.
#pragma once

#include <filesystem>
#include <string>
#include <tuple>

#include "block_test_support.hpp"
#include "faults_block.hpp"
#include "ram_block.hpp"
#include "sync_block.hpp"
#ifdef NETLOOM_TEST_BLK_URING
#include "uring_device.hpp"
#endif

namespace netloom::testing {

struct DriverShape {
    std::uint32_t sector_size = 512;
    std::uint64_t sectors = 1024;
    std::uint32_t max_sectors = 8;
    std::uint32_t max_in_flight = 4;
    bool read_only = false;
};

inline std::string shape_keys(const DriverShape& s) {
    return "sector_size: " + std::to_string(s.sector_size) +
           ", read_only: " + (s.read_only ? "true" : "false");
}

inline std::string copy_into(const std::string& image, const TempDir& dir, const char* name) {
    const std::string path = dir.file(name);
    std::filesystem::copy_file(image, path, std::filesystem::copy_options::overwrite_existing);
    return path;
}

struct RamDriver {
    static constexpr const char* plugin = "blk_ram";
    static std::shared_ptr<BlockDevice> build(const Config& c, Env& env) {
        return block::make_ram_block(c, env);
    }
    static std::string yaml(const DriverShape& s, const std::string& image, const TempDir&) {
        return "{use: blk_ram, image: '" + image + "', " + shape_keys(s) +
               ", max_sectors: " + std::to_string(s.max_sectors) +
               ", max_in_flight: " + std::to_string(s.max_in_flight) + "}";
    }
};

struct SyncDriver {
    static constexpr const char* plugin = "blk_sync";
    static std::shared_ptr<BlockDevice> build(const Config& c, Env& env) {
        return block::make_sync_block(c, env);
    }
    static std::string yaml(const DriverShape& s, const std::string& image, const TempDir& dir) {
        return "{use: blk_sync, path: '" + copy_into(image, dir, "sync.img") + "', " +
               shape_keys(s) + ", sectors_per_request: " + std::to_string(s.max_sectors) + "}";
    }
};

/// blk_sync with O_DIRECT: misaligned buffers go through its bounce buffer.
struct SyncDirectDriver : SyncDriver {
    static std::string yaml(const DriverShape& s, const std::string& image, const TempDir& dir) {
        return "{use: blk_sync, direct: true, path: '" + copy_into(image, dir, "direct.img") +
               "', " + shape_keys(s) + ", sectors_per_request: " + std::to_string(s.max_sectors) +
               "}";
    }
};

/// blk_faults injecting nothing but latency and jitter (completions out of order) over blk_ram:
/// a decorator must keep the contract.
struct FaultsDriver {
    static constexpr const char* plugin = "blk_faults";
    static std::shared_ptr<BlockDevice> build(const Config& c, Env& env) {
        return block::make_faults_block(c, env);
    }
    static std::string yaml(const DriverShape& s, const std::string& image, const TempDir& dir) {
        return "{use: blk_faults, seed: 3, latency: 40us, jitter: 40us, inner: " +
               RamDriver::yaml(s, image, dir) + "}";
    }
};

#ifdef NETLOOM_TEST_BLK_URING
/// blk_uring on a copy of the image in the build tree (a disk file system, so O_DIRECT; where the
/// file system's alignment is coarser than the shape's sector it falls back to buffered I/O):
/// `queue_depth` is its max_in_flight, and a small region of registered buffers lets the suite's
/// allocations outgrow it into heap memory.
struct UringDriver {
    static constexpr const char* plugin = "blk_uring";
    static std::shared_ptr<BlockDevice> build(const Config& c, Env& env) {
        return block::make_uring_device(c, env);
    }
    static std::string yaml(const DriverShape& s, const std::string& image, const TempDir& dir) {
        return "{use: blk_uring, path: '" + copy_into(image, dir, "uring.img") + "', " +
               shape_keys(s) + ", max_sectors: " + std::to_string(s.max_sectors) +
               ", queue_depth: " + std::to_string(s.max_in_flight) + ", registered_buffers: 64KiB}";
    }
};
#define NETLOOM_BLOCK_URING_DRIVER , UringDriver
#else
#define NETLOOM_BLOCK_URING_DRIVER
#endif

// The suite's TEMPLATE_TEST_CASEs take this list (their names end with " - <trait>").
#define NETLOOM_BLOCK_DRIVERS \
    RamDriver, SyncDriver, SyncDirectDriver, FaultsDriver NETLOOM_BLOCK_URING_DRIVER
using BlockDrivers = std::tuple<NETLOOM_BLOCK_DRIVERS>;

inline BlockTestEnv::BlockTestEnv(Scheduler& scheduler) : scheduler_(scheduler) {
    std::apply(
        [this](auto... driver) {
            (provide(decltype(driver)::plugin, &decltype(driver)::build), ...);
        },
        BlockDrivers{});
}

}  // namespace netloom::testing
