// Sequential block reads with requests ahead of the reader; see block_read_ahead.hpp.
#include "block_read_ahead.hpp"

#include <algorithm>
#include <utility>

namespace netloom::apps {

// Resumes the reader from the next completion of any of its requests.
class BlockReadAhead::Wake {
public:
    explicit Wake(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    Wake(const Wake&) = delete;
    Wake& operator=(const Wake&) = delete;
    ~Wake() {
        if (core_->waiter == handle_) core_->waiter = {};  // destroyed while suspended
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle) noexcept {
        handle_ = handle;
        core_->waiter = handle;
    }
    void await_resume() const noexcept {}

private:
    std::shared_ptr<Core> core_;
    std::coroutine_handle<> handle_;
};

BlockReadAhead::BlockReadAhead(BlockDevice& device, ReadAheadShape shape)
    : device_(device),
      shape_{std::max(shape.read_size, 1u), std::max(shape.in_flight, 1u)},
      sector_size_(device.geometry().sector_size),
      capacity_(device.geometry().bytes()),
      core_(std::make_shared<Core>()) {
    core_->slots.resize(shape_.in_flight);
}

BlockReadAhead::~BlockReadAhead() {
    core_->waiter = {};
}

void BlockReadAhead::start(std::uint64_t first, std::uint64_t end, bool ramp) {
    ++generation_;
    window_ = ramp ? 1 : shape_.in_flight;
    for (std::size_t i : issued_) core_->slots[i].queued = false;
    issued_.clear();
    release_held();
    end_ = std::min(end, capacity_);
    first_ = std::min(first, end_);
    next_sector_ = first_ / sector_size_;
    // An empty range reads nothing (rounding out would read the sector holding `first`).
    end_sector_ = first_ == end_ ? next_sector_ : (end_ + sector_size_ - 1) / sector_size_;
}

std::uint64_t BlockReadAhead::requested_end() const noexcept {
    return std::min(end_, next_sector_ * sector_size_);
}

std::size_t BlockReadAhead::buffer_bytes() const noexcept {
    std::size_t total = 0;
    for (const Slot& s : core_->slots) total += s.buffer.size();
    return total;
}

void BlockReadAhead::release_held() {
    if (held_ >= 0) core_->slots[static_cast<std::size_t>(held_)].queued = false;
    held_ = -1;
}

void BlockReadAhead::refill() {
    auto& slots = core_->slots;
    for (std::size_t i = 0; i < slots.size() && next_sector_ < end_sector_; ++i) {
        if (issued_.size() >= window_) break;
        Slot& s = slots[i];
        if (s.pending || s.queued) continue;
        const auto sectors = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(shape_.read_size, end_sector_ - next_sector_));
        const std::size_t bytes = std::size_t{sectors} * sector_size_;
        if (s.buffer.size() < bytes) {
            // A whole read_size unless the range is shorter: small files get small buffers.
            const std::uint64_t range_sectors = end_sector_ - first_ / sector_size_;
            const auto want = std::min<std::uint64_t>(shape_.read_size, range_sectors);
            s.buffer = device_.allocate(std::max<std::size_t>(bytes, want * sector_size_));
        }
        s.sector = next_sector_;
        s.sectors = sectors;
        s.generation = generation_;
        s.pending = s.queued = true;
        s.done = false;
        s.error = 0;
        next_sector_ += sectors;
        issued_.push_back(i);
        device_.submit({BlockOp::read, s.sector, s.buffer.span().first(bytes)},
                       [core = core_, i, generation = generation_](int error) {
                           Slot& slot = core->slots[i];
                           slot.pending = false;
                           if (slot.generation == generation) {
                               slot.done = true;
                               slot.error = error;
                           }
                           if (auto h = std::exchange(core->waiter, {})) h.resume();
                       });
    }
}

Task<BlockReadAhead::Chunk> BlockReadAhead::next() {
    release_held();
    for (;;) {
        refill();
        if (issued_.empty() && next_sector_ >= end_sector_) co_return Chunk{end_, {}, 0};
        if (!issued_.empty() && core_->slots[issued_.front()].done) break;
        co_await Wake(core_);
    }
    const std::size_t i = issued_.front();
    issued_.pop_front();
    held_ = static_cast<std::ptrdiff_t>(i);
    window_ = std::min(shape_.in_flight, window_ * 2);
    const Slot& s = core_->slots[i];
    if (s.error != 0) {
        const int error = s.error;
        const std::uint64_t at = std::max(first_, s.sector * sector_size_);
        start(end_, end_);  // abandon the range
        co_return Chunk{at, {}, error};
    }
    const std::uint64_t begin = s.sector * sector_size_;
    const std::uint64_t from = std::max(first_, begin);
    const std::uint64_t to = std::min(end_, begin + std::uint64_t{s.sectors} * sector_size_);
    co_return Chunk{from, s.buffer.span().subspan(from - begin, to - from), 0};
}

}  // namespace netloom::apps
