// block_io.hpp: block requests as co_await in app coroutines, cancellation of a suspended
// request, and the lookup of a named device from an app's config.
#include <cerrno>

#include <catch2/catch.hpp>

#include "block_drivers.hpp"
#include "block_io.hpp"
#include "manual_scheduler.hpp"
#include "task_scope.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;
using apps::block_flush;
using apps::block_read;
using apps::block_write;
using apps::TaskScope;

namespace {

struct BlockIoRig {
    ManualScheduler sched;
    BlockTestEnv env{sched};
    std::shared_ptr<BlockDevice> disk = env.block_from_yaml("{use: blk_ram, size: 64KiB}");
    TaskScope scope{sched};
};

}  // namespace

TEST_CASE("block_io: write, flush and read back as co_await, errors as values") {
    BlockIoRig rig;
    std::vector<int> results;
    Bytes written = pattern(3 * 512, 5), read(3 * 512);
    Bytes odd(100);
    // A named coroutine lambda: it must outlive the task it makes (stream_test.cpp).
    auto client = [&]() -> Task<void> {
        results.push_back(co_await block_write(*rig.disk, 7, written));
        results.push_back(co_await block_flush(*rig.disk));
        results.push_back(co_await block_read(*rig.disk, 7, read));
        results.push_back(co_await block_read(*rig.disk, 7, odd));
        results.push_back(co_await block_read(*rig.disk, 128, read));
    };
    rig.scope.spawn(client());
    rig.sched.run_until_idle();
    CHECK(results == std::vector<int>{0, 0, 0, EINVAL, EINVAL});
    CHECK(read == written);
    CHECK(rig.scope.active() == 0);
}

TEST_CASE("block_io: a task destroyed while its request is pending is never resumed") {
    BlockIoRig rig;
    rig.disk = rig.env.block_from_yaml(
        "{use: blk_faults, latency: 1ms, inner: {use: blk_ram, size: 64KiB}}");
    BlockBuffer buffer = rig.disk->allocate(512);
    bool resumed = false;
    auto reader = [&]() -> Task<void> {
        co_await block_read(*rig.disk, 0, buffer.span());
        resumed = true;
    };
    auto scope = std::make_unique<TaskScope>(rig.sched);
    scope->spawn(reader());
    rig.sched.run_until_idle();
    CHECK(scope->active() == 1);
    scope.reset();           // as when the app is destroyed
    rig.sched.advance(5ms);  // the request completes into nothing
    CHECK_FALSE(resumed);
    CHECK(counter(*rig.disk, "faults_delayed") == 1);
}

TEST_CASE("block_io: block_device finds a named device, or fails at the app's key") {
    BlockIoRig rig;
    rig.env.add_block("disk0", rig.disk);
    rig.env.add_block("cache", rig.disk);
    const Config good = Config::load_string("{use: x, device: disk0}", "app.yaml");
    CHECK(&apps::block_device(good, rig.env) == rig.disk.get());
    const Config other = Config::load_string("{use: x, store: cache}", "app.yaml");
    CHECK(&apps::block_device(other, rig.env, "store") == rig.disk.get());

    const Config bad = Config::load_string("{use: x,\n  device: disk9}", "app.yaml");
    try {
        apps::block_device(bad, rig.env);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK_THAT(e.what(), Catch::Contains("app.yaml:2:11"));
        CHECK_THAT(e.what(), Catch::Contains("no block device named 'disk9'"));
    }
    const Config missing = Config::load_string("{use: x}", "app.yaml");
    CHECK_THROWS_AS(apps::block_device(missing, rig.env), ConfigError);
}
