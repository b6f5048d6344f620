// memory_block_device.hpp — MemoryBlockDevice: a BlockDevice for unit tests, its sectors in a
// vector (or generated on the fly, for archives too large to hold), its requests completed from
// callbacks posted to the scheduler, with chosen sectors failing, completions optionally in
// reverse order, and what the requests looked like recorded (sizes, in-flight peak, buffers
// allocated) so tests can check the I/O shape callers produce.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netloom/block.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::testing {

class MemoryBlockDevice final : public BlockDevice {
public:
    /// Fills `out` with the device's bytes from byte `offset` on.
    using Generator = std::function<void(std::uint64_t offset, std::span<std::uint8_t> out)>;

    /// `image` zero-padded to whole sectors.
    MemoryBlockDevice(Scheduler& scheduler, std::vector<std::uint8_t> image,
                      std::uint32_t sector_size = 512)
        : scheduler_(scheduler), image_(std::move(image)) {
        geometry_.sector_size = sector_size;
        image_.resize((image_.size() + sector_size - 1) / sector_size * sector_size);
        geometry_.sectors = image_.size() / sector_size;
        init();
    }
    MemoryBlockDevice(Scheduler& scheduler, std::uint64_t bytes, Generator generator,
                      std::uint32_t sector_size = 512)
        : scheduler_(scheduler), generator_(std::move(generator)) {
        geometry_.sector_size = sector_size;
        geometry_.sectors = bytes / sector_size;
        init();
    }

    BlockGeometry geometry() const noexcept override { return geometry_; }
    std::string describe() const override { return "memory"; }

    void submit(const BlockRequest& request, BlockCompletion done) override {
        ++requests;
        const std::uint32_t ss = geometry_.sector_size;
        int error = 0;
        const std::uint64_t sectors = request.buffer.size() / ss;
        if (request.op != BlockOp::read) {
            error = EROFS;
        } else if (request.buffer.size() % ss != 0 || request.sector > geometry_.sectors ||
                   sectors > geometry_.sectors - request.sector) {
            error = EINVAL;
            ++refused;
        } else {
            largest_request = std::max(largest_request, sectors);
            sectors_read += sectors;
            for (std::uint64_t s = request.sector; s < request.sector + sectors; ++s) {
                if (bad_sectors.count(s)) error = EIO;
            }
        }
        ++in_flight;
        in_flight_peak = std::max(in_flight_peak, in_flight);
        // The copy happens at completion, as a device writes the buffer late: a caller that
        // reused or freed it early would be caught (wrong bytes, or ASan).
        pending_.push_back({request, std::move(done), error});
        if (!drain_posted_) {
            drain_posted_ = true;
            scheduler_.post([this, alive = alive_] {
                if (*alive) drain();
            });
        }
    }

    BlockBuffer allocate(std::size_t bytes) override {
        allocated_bytes += bytes;
        return BlockDevice::allocate(bytes);
    }

    void visit_counters(const CounterVisitor& visit) const override {
        visit("requests", requests);
        visit("sectors_read", sectors_read);
    }

    ~MemoryBlockDevice() override { *alive_ = false; }  // pending requests are abandoned

    std::set<std::uint64_t> bad_sectors;  ///< reads touching one complete with EIO
    bool reverse = false;                 ///< complete each loop turn's requests last first
    bool hold = false;                    ///< keep completions until release()
    std::uint64_t requests = 0, sectors_read = 0, largest_request = 0, refused = 0;
    std::uint64_t in_flight = 0, in_flight_peak = 0, allocated_bytes = 0;

    /// Completes what `hold` kept (on a later loop turn).
    void release() {
        hold = false;
        if (!drain_posted_) {
            drain_posted_ = true;
            scheduler_.post([this, alive = alive_] {
                if (*alive) drain();
            });
        }
    }
    std::size_t held() const noexcept { return pending_.size(); }
    /// Overwrites bytes of the image (not of a generated device).
    void write_bytes(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
        std::memcpy(image_.data() + offset, bytes.data(), bytes.size());
    }

private:
    struct Pending {
        BlockRequest request;
        BlockCompletion done;
        int error;
    };

    void init() {
        geometry_.read_only = true;
        geometry_.max_sectors_per_request = 1u << 20;
        geometry_.max_in_flight = 1024;
        geometry_.buffer_alignment = 64;
    }

    void drain() {
        drain_posted_ = false;
        if (hold) return;
        std::vector<Pending> batch = std::move(pending_);
        pending_.clear();
        if (reverse) std::reverse(batch.begin(), batch.end());
        for (Pending& p : batch) {
            if (p.error == 0) {
                const std::uint64_t offset = p.request.sector * geometry_.sector_size;
                if (generator_) {
                    generator_(offset, p.request.buffer);
                } else {
                    std::memcpy(p.request.buffer.data(), image_.data() + offset,
                                p.request.buffer.size());
                }
            }
            --in_flight;
            p.done(p.error);
        }
    }

    Scheduler& scheduler_;
    BlockGeometry geometry_;
    std::vector<std::uint8_t> image_;
    Generator generator_;
    std::vector<Pending> pending_;
    bool drain_posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace netloom::testing
