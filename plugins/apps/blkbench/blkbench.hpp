// blkbench.hpp — the `blkbench` app: random or sequential reads or writes of `block_size` bytes
// against a named block device, `queue_depth` requests kept in flight, bounded by a count of
// operations (and optionally a duration); reports IOPS, MB/s and latency percentiles.
//
// Contract: finite. On start it allocates `queue_depth` buffers from the device
// (BlockDevice::allocate, so registered memory where the device has some), submits that many
// requests, and on each completion records the latency (Scheduler::now() from submit to
// completion) and submits the next one until `ops` have been submitted or `duration` has
// passed, whichever comes first; it finishes when the last one completes: status 0 when no
// request failed (and the report, if asked for, was written), else 1. The first error stops
// new submissions. Offsets: random ones are uniform over the `range` bytes from `offset`, whole
// blocks, drawn from a SplitMix64 stream of `seed` (repeats allowed); sequential ones go
// through the range block by block and wrap. Written data is a pattern of `seed`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "latency_histogram.hpp"
#include "netloom/app.hpp"
#include "netloom/block.hpp"
#include "netloom/scheduler.hpp"

namespace netloom {
class Config;
class Env;
}  // namespace netloom

namespace netloom::apps {

struct BlkbenchOptions {
    enum class Pattern { randread, randwrite, read, write };
    std::string device;
    Pattern pattern = Pattern::randread;
    std::uint64_t block_size = 4096;
    std::uint32_t queue_depth = 1;
    std::uint64_t ops = 10000;
    std::optional<Time> duration;  ///< an extra bound; ops still bounds the run
    std::uint64_t offset = 0;      ///< bytes; a whole number of blocks
    std::uint64_t range = 0;       ///< bytes from offset; 0: to the end of the device
    std::uint64_t seed = 1;
    std::string report;  ///< JSON path; empty: none

    /// Keys only; the device's geometry is checked by `make_blkbench`.
    static BlkbenchOptions from_config(const Config& config);
    bool writes() const noexcept {
        return pattern == Pattern::randwrite || pattern == Pattern::write;
    }
    bool random() const noexcept {
        return pattern == Pattern::randread || pattern == Pattern::randwrite;
    }
};

const char* pattern_name(BlkbenchOptions::Pattern pattern) noexcept;

class BlkbenchApp final : public App {
public:
    BlkbenchApp(BlkbenchOptions options, BlockDevice& device, Scheduler& sched,
                std::shared_ptr<spdlog::logger> log);
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return true; }
    void visit_counters(const CounterVisitor& visit) const override;

    // Results, for tests.
    std::uint64_t completed() const noexcept { return completed_; }
    std::uint64_t errors() const noexcept { return errors_; }
    const LatencyHistogram& latencies() const noexcept { return histogram_; }

private:
    struct Slot {
        BlockBuffer buffer;
        Time submitted{0};
    };
    void submit_next(std::size_t slot);
    void on_complete(std::size_t slot, int error);
    std::uint64_t next_block() noexcept;
    void finish();
    void write_report(double seconds, double cpu_seconds) const;

    BlkbenchOptions options_;
    BlockDevice& device_;
    Scheduler& sched_;
    std::shared_ptr<spdlog::logger> log_;
    std::function<void(int)> finished_;
    std::uint32_t sector_size_ = 512;
    std::uint64_t blocks_ = 0;  ///< in the range
    std::vector<Slot> slots_;
    LatencyHistogram histogram_;
    std::uint64_t rng_state_ = 0;
    std::uint64_t sequential_next_ = 0;
    std::uint64_t submitted_ = 0, completed_ = 0, in_flight_ = 0, errors_ = 0;
    int first_error_ = 0;
    bool stopping_ = false;
    Time started_{0}, deadline_{Time::max()}, ended_{0};
    double cpu_start_ = 0;
};

std::unique_ptr<App> make_blkbench(const Config& config, Env& env);

}  // namespace netloom::apps
