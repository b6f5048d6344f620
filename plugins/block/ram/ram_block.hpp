// ram_block.hpp — `blk_ram`: a block device in memory, for tests and as the reference the other
// drivers are checked against.
//
// Contract: block.hpp's, through BlockQueue (refusals, splitting at `max_sectors`, at most
// `max_in_flight` operations, completions posted, never inline). The memory is an anonymous
// mapping of `size` bytes, zero until written (pages are only touched when used); `image`, when
// given, is copied in at construction (it must fit in `size`; without `size` the device is the
// image rounded up to whole sectors). Each operation is one memcpy, done when it starts; it ends
// (frees its slot) on a later loop turn, so the limits shape the I/O as a real device's would.
// Under `netloom check` nothing is mapped or read (`image` is not opened).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "block_queue.hpp"
#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace netloom::block {

struct RamOptions {
    BlockGeometry geometry;
    std::string image;  ///< file copied in at start; empty: none

    /// Reads and checks every key (the image's size is checked by the device); calls done().
    /// `size` is optional only with `image`, then geometry.sectors is 0 here.
    static RamOptions from_config(const Config& config);
};

class RamBlockDevice final : public BlockDevice {
public:
    /// `check_only`: validate, allocate nothing, read no file.
    RamBlockDevice(const RamOptions& options, Scheduler& scheduler, bool check_only = false);
    ~RamBlockDevice() override;

    BlockGeometry geometry() const noexcept override { return geometry_; }
    std::string describe() const override;
    void submit(const BlockRequest& request, BlockCompletion done) override;
    void visit_counters(const CounterVisitor& visit) const override {
        queue_->visit_counters(visit);
    }

    /// The device's bytes (tests compare other drivers against them); empty under check_only.
    std::span<std::uint8_t> contents() noexcept {
        return {memory_, memory_ ? geometry_.bytes() : 0};
    }

private:
    void run(const BlockOperation& operation);

    BlockGeometry geometry_;
    std::string image_;
    std::uint8_t* memory_ = nullptr;
    std::unique_ptr<BlockQueue> queue_;
};

std::unique_ptr<RamBlockDevice> make_ram_block(const Config& config, Env& env);

}  // namespace netloom::block
