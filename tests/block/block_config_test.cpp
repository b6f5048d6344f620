// The block drivers' YAML keys: defaults, errors at the offending key with file:line:column, and
// `netloom check` (check_only) touching no file.
#include <filesystem>

#include <catch2/catch.hpp>

#include "block_drivers.hpp"
#include "manual_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

// The error building `yaml` gives (ConfigError with its place, or another exception's message),
// or "" when it builds.
std::string build_error(BlockTestEnv& env, const std::string& yaml) {
    try {
        env.block_from_yaml(yaml);
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("block config: defaults") {
    ManualScheduler sched;
    BlockTestEnv env(sched);
    TempDir dir;
    auto ram = env.block_from_yaml("{use: blk_ram, size: 1MiB}");
    BlockGeometry g = ram->geometry();
    CHECK(g.sector_size == 512);
    CHECK(g.sectors == 2048);
    CHECK_FALSE(g.read_only);
    CHECK(g.max_sectors_per_request == 256);
    CHECK(g.max_in_flight == 32);
    CHECK(ram->describe() == "ram(1 MiB)");

    const std::string file = dir.write("disk.img", pattern(10 * 512 + 100, 1));
    auto sync = env.block_from_yaml("{use: blk_sync, path: '" + file + "'}");
    g = sync->geometry();
    CHECK(g.sectors == 10);  // the trailing partial sector is not used
    CHECK(g.max_sectors_per_request == 256);
    CHECK(g.max_in_flight == 1);
    CHECK(g.buffer_alignment == 1);
    CHECK(sync->describe() == "sync(" + file + ", 256 sector(s)/request)");

    auto image = env.block_from_yaml("{use: blk_ram, image: '" + file + "', sector_size: 4KiB}");
    CHECK(image->geometry().sectors == 2);  // 5220 bytes, rounded up to whole 4 KiB sectors

    auto faults = env.block_from_yaml("{use: blk_faults, inner: {use: blk_ram, size: 64KiB}}");
    CHECK(faults->geometry().sectors == 128);
    CHECK(faults->describe() == "faults > ram(64 KiB)");
}

TEST_CASE("block config: bad keys and sizes fail at their place") {
    ManualScheduler sched;
    BlockTestEnv env(sched);
    TempDir dir;
    const std::string small = dir.write("small.img", pattern(4096, 2));
    struct Case {
        std::string yaml;
        std::string place;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {"{use: blk_ram}", "test.yaml:1:1", "size: required key is missing"},
        {"{use: blk_ram, sise: 1MiB}", "test.yaml:1:22", "did you mean 'size'"},
        {"{use: blk_ram, size: 1000}", "test.yaml:1:22", "whole number of 512-byte sectors"},
        {"{use: blk_ram, size: 0}", "test.yaml:1:22", "a positive size"},
        {"{use: blk_ram, size: lots}", "test.yaml:1:22", "size"},
        {"{use: blk_ram, size: 1MiB, sector_size: 1000}", "test.yaml:1:41", "a power of two"},
        {"{use: blk_ram, size: 1MiB, sector_size: 256}", "test.yaml:1:41", "from 512 to 64KiB"},
        {"{use: blk_ram, size: 1MiB, max_sectors: 0}", "test.yaml:1:41", "max_sectors"},
        {"{use: blk_ram, size: 1MiB, max_in_flight: 100000}", "test.yaml:1:43", "max_in_flight"},
        {"{use: blk_ram, size: 1MiB, read_only: maybe}", "test.yaml:1:39", "read_only"},
        {"{use: blk_sync}", "test.yaml:1:1", "path: required key is missing"},
        {"{use: blk_sync, path: ''}", "test.yaml:1:23", "a file or device path"},
        {"{use: blk_sync, path: x.img, create: true}", "test.yaml:1:1",
         "size: required key is missing"},
        {"{use: blk_sync, path: x.img, create: true, size: 1MiB, read_only: true}",
         "test.yaml:1:38", "create"},
        {"{use: blk_sync, path: x.img, size: 1MiB, sectors_per_request: 0}", "test.yaml:1:63",
         "sectors_per_request"},
        {"{use: blk_faults}", "test.yaml:1:1", "inner: required key is missing"},
        {"{use: blk_faults, read_errors: ['20-10'], inner: {use: blk_ram, size: 1MiB}}",
         "test.yaml:1:32", "\"20-10\""},
        {"{use: blk_faults, write_errors: [x], inner: {use: blk_ram, size: 1MiB}}",
         "test.yaml:1:33", "inclusive ranges"},
        {"{use: blk_faults, read_error_rate: 1.5, inner: {use: blk_ram, size: 1MiB}}",
         "test.yaml:1:36", "read_error_rate"},
        {"{use: blk_faults, latency: 2min, inner: {use: blk_ram, size: 1MiB}}", "test.yaml:1:28",
         "latency"},
        {"{use: blk_faults, inner: {use: blk_ram, size: 1000}}", "test.yaml:1:47", "inner.size"},
    };
    for (const Case& c : cases) {
        INFO(c.yaml);
        const std::string error = build_error(env, c.yaml);
        CHECK_THAT(error, Catch::StartsWith(c.place + ":"));
        CHECK_THAT(error, Catch::Contains(c.needle));
    }
    // Errors only found when the file is opened (the host turns them into ConfigErrors at the
    // device's mapping).
    CHECK_THAT(build_error(env, "{use: blk_sync, path: '" + dir.file("none.img") + "'}"),
               Catch::Contains("No such file"));
    CHECK_THAT(build_error(env, "{use: blk_sync, path: '" + small + "', size: 1MiB}"),
               Catch::Contains("less than `size`"));
    CHECK_THAT(build_error(env, "{use: blk_ram, size: 2KiB, image: '" + small + "'}"),
               Catch::Contains("larger than the device"));
    CHECK_THAT(build_error(env, "{use: blk_ram, image: '" + dir.file("none.img") + "'}"),
               Catch::Contains("No such file"));
}

TEST_CASE("block config: a check opens, creates and reads nothing") {
    ManualScheduler sched;
    BlockTestEnv env(sched);
    env.set_check_only(true);
    TempDir dir;
    const std::string created = dir.file("new.img");
    auto sync =
        env.block_from_yaml("{use: blk_sync, path: '" + created + "', create: true, size: 1MiB}");
    CHECK(sync->geometry().sectors == 2048);
    CHECK_FALSE(std::filesystem::exists(created));
    auto ram = env.block_from_yaml("{use: blk_ram, image: '" + dir.file("absent.img") + "'}");
    CHECK(ram->geometry().sectors == 0);
    CHECK(build_error(env, "{use: blk_sync, path: '" + dir.file("absent.img") + "'}") == "");
}

TEST_CASE("block config: blk_sync with create makes the file, grown to size") {
    ManualScheduler sched;
    BlockTestEnv env(sched);
    TempDir dir;
    const std::string path = dir.file("new.img");
    auto sync =
        env.block_from_yaml("{use: blk_sync, path: '" + path + "', create: true, size: 64KiB}");
    CHECK(std::filesystem::file_size(path) == 64 * 1024);
    CHECK(sync->geometry().sectors == 128);
    Bytes data = pattern(1024, 3);
    REQUIRE(complete(sched, *sync, {BlockOp::write, 126, data}) == 0);
    REQUIRE(complete(sched, *sync, {BlockOp::flush, 0, {}}) == 0);
    sync.reset();
    const Bytes file = TempDir::read(path);
    CHECK(std::equal(data.begin(), data.end(), file.begin() + 126 * 512));
    // Opened again without `size`: the file's size; with a smaller `size`: that.
    CHECK(env.block_from_yaml("{use: blk_sync, path: '" + path + "'}")->geometry().sectors == 128);
    CHECK(env.block_from_yaml("{use: blk_sync, path: '" + path + "', size: 32KiB}")
              ->geometry()
              .sectors == 64);
}
