// block.hpp — BlockDevice: a disk of fixed-size sectors, read and written asynchronously (the
// `block` plugin kind).
//
// Contract: single-threaded, on the scheduler's thread. `geometry()` is fixed once the device
// exists. `submit` never fails synchronously and never calls back from inside itself: every
// request completes exactly once, later, on the scheduler's thread, with 0 or a positive errno
// (EINVAL: a buffer that is not a whole number of sectors or a range past the capacity, refused
// before any I/O; EROFS: a write to a read-only device; EIO: the medium failed). A request may be
// any number of sectors: the driver splits one larger than `max_sectors_per_request` into pieces
// and queues operations beyond `max_in_flight`; the limits are advertised so callers can shape
// their I/O to what the device does in one operation. A read fills the buffer whole or reports an
// error (the contents are then unspecified). `flush` completes once every write that completed
// before it was submitted is durable. Memory from `allocate` is aligned for the device (O_DIRECT)
// and may be registered with it (io_uring fixed buffers); it may be released while a request on
// it is pending (the device keeps it until the operation ends). Any other buffer works too,
// perhaps through a copy, and must outlive its request's completion. Destroying the device
// abandons pending requests without calling their completions (the host destroys block devices
// after every app) and waits for operations the kernel still holds. Decorators (blk_faults) wrap
// an inner BlockDevice and are one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "netloom/counters.hpp"
#include "netloom/plugin.hpp"

namespace netloom {

struct BlockGeometry {
    std::uint32_t sector_size = 512;  ///< bytes, a power of two
    std::uint64_t sectors = 0;        ///< capacity
    bool read_only = false;
    std::uint32_t max_sectors_per_request = 1;  ///< sectors the device moves in one operation
    std::uint32_t max_in_flight = 1;            ///< operations it runs at once
    std::uint32_t buffer_alignment = 1;         ///< byte alignment its fastest path needs

    std::uint64_t bytes() const noexcept { return sectors * sector_size; }
};

enum class BlockOp : std::uint8_t { read, write, flush };

/// Called once per request with 0 or a positive errno.
using BlockCompletion = std::function<void(int error)>;

struct BlockRequest {
    BlockOp op = BlockOp::read;
    std::uint64_t sector = 0;        ///< first sector (ignored by flush)
    std::span<std::uint8_t> buffer;  ///< a whole number of sectors; empty for flush
};

/// Memory for requests, aligned for a device (and perhaps registered with it); move-only.
class BlockBuffer {
public:
    BlockBuffer() = default;
    BlockBuffer(std::uint8_t* data, std::size_t size, void (*release)(std::uint8_t*, void*),
                void* owner) noexcept
        : data_(data), size_(size), release_(release), owner_(owner) {}
    BlockBuffer(BlockBuffer&& other) noexcept { swap(other); }
    BlockBuffer& operator=(BlockBuffer&& other) noexcept {
        BlockBuffer(std::move(other)).swap(*this);
        return *this;
    }
    BlockBuffer(const BlockBuffer&) = delete;
    BlockBuffer& operator=(const BlockBuffer&) = delete;
    ~BlockBuffer() {
        if (data_ && release_) release_(data_, owner_);
    }
    std::span<std::uint8_t> span() const noexcept { return {data_, size_}; }
    std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    void swap(BlockBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(release_, other.release_);
        std::swap(owner_, other.owner_);
    }
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    void (*release_)(std::uint8_t*, void*) = nullptr;
    void* owner_ = nullptr;
};

class BlockDevice : public PluginObject, public CounterSource {
public:
    virtual BlockGeometry geometry() const noexcept = 0;
    /// Human-readable one-liner for logs: "uring(/var/disk.img, O_DIRECT, depth 32)".
    virtual std::string describe() const = 0;
    virtual void submit(const BlockRequest& request, BlockCompletion done) = 0;
    /// `bytes` of memory aligned to geometry().buffer_alignment (the default: plain aligned heap
    /// memory; blk_uring hands out registered memory while it has some).
    virtual BlockBuffer allocate(std::size_t bytes);
};

}  // namespace netloom
