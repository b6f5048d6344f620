// blkbench against an in-memory device of this test (every request recorded) and against
// blk_uring on a file: the op count bounds the run, the queue depth is kept, offsets stay in the
// range, errors stop it with status 1, the report carries the figures, bad keys are refused.
#include <cerrno>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "blkbench.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "uring_device.hpp"
#include "uring_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

// Memory as a disk; completes on a later loop turn; fails requests touching `bad_sector`.
class MemoryDevice final : public BlockDevice {
public:
    MemoryDevice(Scheduler& sched, std::uint64_t sectors, bool read_only = false)
        : sched_(sched), data_(sectors * 512) {
        geometry_.sectors = sectors;
        geometry_.read_only = read_only;
        geometry_.max_in_flight = 64;
        geometry_.max_sectors_per_request = 256;
    }
    BlockGeometry geometry() const noexcept override { return geometry_; }
    std::string describe() const override { return "memory"; }
    void submit(const BlockRequest& r, BlockCompletion done) override {
        requests.push_back(r);
        ++in_flight;
        peak = std::max(peak, in_flight);
        sched_.post([this, r, done = std::move(done)] {
            --in_flight;
            const std::uint64_t count = r.buffer.size() / 512;
            if (bad_sector && *bad_sector >= r.sector && *bad_sector < r.sector + count) {
                done(EIO);
                return;
            }
            std::uint8_t* disk = data_.data() + r.sector * 512;
            if (r.op == BlockOp::read) std::copy(disk, disk + r.buffer.size(), r.buffer.data());
            if (r.op == BlockOp::write) std::copy(r.buffer.begin(), r.buffer.end(), disk);
            done(0);
        });
    }
    void visit_counters(const CounterVisitor&) const override {}

    std::vector<BlockRequest> requests;
    int in_flight = 0, peak = 0;
    std::optional<std::uint64_t> bad_sector;

private:
    Scheduler& sched_;
    BlockGeometry geometry_;
    std::vector<std::uint8_t> data_;
};

class BlockEnv final : public Env {
public:
    BlockEnv(Scheduler& sched, BlockDevice& device) : sched_(sched), device_(device) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view) override { return null_logger(); }
    Scheduler& scheduler() override { return sched_; }
    Checksum& checksum() override { throw std::logic_error("no checksum here"); }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("no net devices here");
    }
    BlockDevice& block(std::string_view name) override {
        if (name != "disk0")
            throw std::invalid_argument("no block device named '" + std::string(name) +
                                        "' (known: disk0)");
        return device_;
    }

private:
    Scheduler& sched_;
    BlockDevice& device_;
    std::string name_ = "test";
};

struct Run {
    int status = -1;
    std::unique_ptr<App> app;
};

Run run_blkbench(sched::EpollScheduler& sched, BlockDevice& device, const std::string& yaml) {
    BlockEnv env(sched, device);
    Run run;
    run.app = apps::make_blkbench(Config::load_string(yaml, "blkbench.yaml"), env);
    run.app->start([&](int status) {
        run.status = status;
        sched.stop();
    });
    REQUIRE(run_with_deadline(sched));
    return run;
}

std::string scratch_report_path() {
    return "/tmp/netloom_blkbench_test_" + std::to_string(::getpid()) + ".json";
}

}  // namespace

TEST_CASE("blkbench: random reads, bounded by the op count, at the queue depth, in the range") {
    sched::EpollScheduler sched;
    MemoryDevice device(sched, 4096);  // 2 MiB
    const std::string report = scratch_report_path();
    Run run = run_blkbench(sched, device,
                           "device: disk0\npattern: randread\nblock_size: 4KiB\nqueue_depth: 4\n"
                           "ops: 300\noffset: 64KiB\nrange: 256KiB\nreport: " +
                               report + "\n");
    CHECK(run.status == 0);
    REQUIRE(device.requests.size() == 300);
    CHECK(device.peak == 4);
    std::set<std::uint64_t> distinct;
    for (const BlockRequest& r : device.requests) {
        CHECK(r.op == BlockOp::read);
        CHECK(r.buffer.size() == 4096);
        CHECK(r.sector % 8 == 0);
        CHECK(r.sector >= 128);
        CHECK(r.sector + 8 <= 128 + 512);
        distinct.insert(r.sector);
    }
    CHECK(distinct.size() > 40);  // 64 blocks in the range, 300 draws: nearly all of them
    std::ifstream in(report);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::filesystem::remove(report);
    CHECK(j["ops"] == 300);
    CHECK(j["bytes"] == 300 * 4096);
    CHECK(j["ok"] == true);
    CHECK(j["pattern"] == "randread");
    CHECK(j["metrics"]["iops"].get<double>() > 0);
    CHECK(j["latency_us"]["p99"].get<double>() >= j["latency_us"]["p50"].get<double>());
}

TEST_CASE("blkbench: sequential writes go block after block and wrap at the range's end") {
    sched::EpollScheduler sched;
    MemoryDevice device(sched, 64);
    Run run = run_blkbench(
        sched, device, "device: disk0\npattern: write\nblock_size: 8KiB\nqueue_depth: 2\nops: 6\n");
    CHECK(run.status == 0);
    REQUIRE(device.requests.size() == 6);
    const std::uint64_t expected[] = {0, 16, 32, 48, 0, 16};
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(device.requests[i].op == BlockOp::write);
        CHECK(device.requests[i].sector == expected[i]);
    }
}

TEST_CASE("blkbench: an I/O error stops new requests and fails the app") {
    sched::EpollScheduler sched;
    MemoryDevice device(sched, 64);
    device.bad_sector = 8;
    Run run =
        run_blkbench(sched, device, "device: disk0\npattern: read\nblock_size: 4KiB\nops: 100\n");
    CHECK(run.status == 1);
    CHECK(device.requests.size() == 2);  // blocks 0 and 1; the second fails
    CHECK(static_cast<apps::BlkbenchApp&>(*run.app).errors() == 1);
}

TEST_CASE("blkbench: keys checked against the device") {
    sched::EpollScheduler sched;
    MemoryDevice device(sched, 64);
    MemoryDevice read_only(sched, 64, true);
    const auto make = [&](BlockDevice& d, const std::string& yaml) {
        BlockEnv env(sched, d);
        return apps::make_blkbench(Config::load_string(yaml, "blkbench.yaml"), env);
    };
    CHECK_THROWS_AS(make(device, "device: disk0\nblock_size: 1000\n"), ConfigError);
    CHECK_THROWS_AS(make(device, "device: disk1\n"), ConfigError);
    CHECK_THROWS_AS(make(device, "device: disk0\nrange: 1MiB\n"), ConfigError);
    CHECK_THROWS_AS(make(device, "device: disk0\noffset: 1KiB\n"), ConfigError);
    CHECK_THROWS_AS(make(read_only, "device: disk0\npattern: randwrite\n"), ConfigError);
    CHECK_THROWS_AS(make(device, "device: disk0\npatern: read\n"), ConfigError);
    CHECK(make(read_only, "device: disk0\npattern: read\n") != nullptr);
}

TEST_CASE("blkbench: random reads through blk_uring on a file") {
    if (const char* why = block::uring_unavailable()) FAIL("io_uring unavailable: " << why);
    ScratchFile file("/var/tmp", 4 << 20, byte_at);
    sched::EpollScheduler sched;
    block::UringOptions options;
    options.path = file.path();
    options.queue_depth = 8;
    block::UringDevice device(options, sched, null_logger());
    Run run =
        run_blkbench(sched, device, "device: disk0\nblock_size: 4KiB\nqueue_depth: 8\nops: 500\n");
    CHECK(run.status == 0);
    auto& app = static_cast<apps::BlkbenchApp&>(*run.app);
    CHECK(app.completed() == 500);
    CHECK(app.latencies().count() == 500);
}
