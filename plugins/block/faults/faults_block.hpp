// faults_block.hpp — `blk_faults`: a decorator that makes its inner block device fail and slow
// down on purpose, seeded, as `impair` does for network devices, so apps can be tested against a
// failing disk.
//
// Contract: geometry, allocate and refusals are the inner device's (a request it refuses —
// EINVAL, EROFS — is passed on unchanged and refused there). A read (write) touching a sector in
// `read_errors` (`write_errors`), or drawn with probability `read_error_rate`
// (`write_error_rate`), completes with EIO without reaching the inner device: a failed write
// leaves the contents as they were, a failed read leaves the buffer as it was. Every completion is
// delayed by `latency` ± a uniform `jitter` (clamped at 0) through scheduler timers, so `sim`
// runs are exact; with no delay, completions come straight from the inner device's (or, for an
// injected error, from a posted callback). Each read or write takes exactly two draws from one
// std::mt19937_64 seeded with `seed` (error, then jitter), flushes none, so the same seed and the
// same requests give the same faults whatever the rates. Destroying it cancels its timers and
// abandons its requests (no completion runs); the host lists the inner device's counters itself.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::block {

/// Inclusive sector ranges.
struct SectorRanges {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    /// True when [first, first + count) meets a range.
    bool hits(std::uint64_t first, std::uint64_t count) const noexcept;
    /// Reads a list like [7, 100-199] at `key` (absent: empty).
    static SectorRanges from_config(const Config& config, std::string_view key);
};

struct FaultsOptions {
    std::uint64_t seed = 1;
    SectorRanges read_errors, write_errors;
    double read_error_rate = 0, write_error_rate = 0;
    Time latency{0}, jitter{0};

    /// Reads every key but `inner` (the factory builds it); calls done().
    static FaultsOptions from_config(const Config& config);
};

class FaultsBlockDevice final : public BlockDevice {
public:
    FaultsBlockDevice(const FaultsOptions& options, std::shared_ptr<BlockDevice> inner,
                      Scheduler& scheduler);
    ~FaultsBlockDevice() override;

    BlockGeometry geometry() const noexcept override { return inner_->geometry(); }
    std::string describe() const override { return "faults > " + inner_->describe(); }
    void submit(const BlockRequest& request, BlockCompletion done) override;
    BlockBuffer allocate(std::size_t bytes) override { return inner_->allocate(bytes); }
    void visit_counters(const CounterVisitor& visit) const override;

private:
    double draw() noexcept;
    /// Runs `done(error)` after the delay drawn for this request; `may_run_now`: the caller is
    /// a completion already (not inside submit).
    void deliver(BlockCompletion done, int error, Time delay, bool may_run_now);

    FaultsOptions options_;
    std::shared_ptr<BlockDevice> inner_;
    Scheduler& scheduler_;
    std::mt19937_64 random_;
    std::uint64_t next_timer_key_ = 1;
    std::map<std::uint64_t, TimerId> timers_;  ///< delayed completions, cancelled on destruction
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    struct Counts {
        std::uint64_t read_sector_eio = 0, write_sector_eio = 0;
        std::uint64_t read_random_eio = 0, write_random_eio = 0;
        std::uint64_t delayed = 0, delayed_peak = 0;
    } counts_;
};

std::unique_ptr<FaultsBlockDevice> make_faults_block(const Config& config, Env& env);

}  // namespace netloom::block
