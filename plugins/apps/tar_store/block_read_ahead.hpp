// block_read_ahead.hpp — BlockReadAhead: reads a byte range of a block device in order, as
// requests of `read_size` sectors with up to `in_flight` of them submitted ahead of the reader,
// so the device sees the shape the config asks for (one sector at a time, or many sectors and
// many requests at once) while the reader takes the bytes piece by piece.
//
//     BlockReadAhead ahead(device, {.read_size = 128, .in_flight = 4});
//     ahead.start(offset, offset + size);
//     for (;;) {
//         BlockReadAhead::Chunk c = co_await ahead.next();
//         if (c.error) ...;               // EIO...: the request holding these bytes failed
//         if (c.bytes.empty()) break;     // the range is done
//         use(c.bytes);                   // valid until the next next() or start()
//     }
//
// Contract: single-threaded, on the scheduler's thread; one coroutine at a time awaits next().
// Requests cover whole sectors (the range's ends are rounded out; next() trims them off) and
// never go past the device's capacity (`start` clips the range to it). Memory is at most
// `in_flight` buffers of `read_size` sectors from BlockDevice::allocate, allocated on first use.
// A buffer is reused only once its request has completed, also after `start` dropped the range
// it belonged to, and stays alive until then even if the reader is destroyed (the completion
// holds it), so a device writing into it late never writes into freed memory. A coroutine
// destroyed while it awaits next() is never resumed.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "netloom/block.hpp"
#include "netloom/task.hpp"

namespace netloom::apps {

struct ReadAheadShape {
    std::uint32_t read_size = 128;  ///< sectors per request
    std::uint32_t in_flight = 4;    ///< requests submitted ahead of the reader
};

class BlockReadAhead {
public:
    struct Chunk {
        std::uint64_t offset = 0;             ///< device byte of bytes[0]
        std::span<const std::uint8_t> bytes;  ///< empty at the end of the range (or on error)
        int error = 0;                        ///< 0, or the failed request's errno
    };

    BlockReadAhead(BlockDevice& device, ReadAheadShape shape);
    ~BlockReadAhead();
    BlockReadAhead(const BlockReadAhead&) = delete;
    BlockReadAhead& operator=(const BlockReadAhead&) = delete;

    /// Reads bytes [first, end) from now on, `end` clipped to the capacity. Requests of the
    /// previous range still in flight are dropped (their buffers come back as they complete).
    /// `ramp`: begin with one request ahead and double that with each piece taken, up to
    /// in_flight — for a reader that may jump away soon (the index build skipping member data)
    /// and should not have read far past where it stopped.
    void start(std::uint64_t first, std::uint64_t end, bool ramp = false);
    /// The next piece of the range, in order. After an error the range is abandoned: next()
    /// gives the end until the next start().
    Task<Chunk> next();
    /// Device byte up to which the range is requested or returned: a later offset below it
    /// comes without a new request.
    std::uint64_t requested_end() const noexcept;
    /// Bytes of the buffers allocated so far.
    std::size_t buffer_bytes() const noexcept;

private:
    struct Slot {
        BlockBuffer buffer;
        std::uint64_t sector = 0;
        std::uint64_t generation = 0;
        std::uint32_t sectors = 0;
        bool pending = false;  ///< a request on it has not completed
        bool queued = false;   ///< it belongs to the current range (issued or held)
        bool done = false;     ///< its current-range request completed
        int error = 0;
    };
    struct Core {  // shared with the completions in flight
        std::vector<Slot> slots;
        std::coroutine_handle<> waiter;
    };
    class Wake;  // awaits any completion

    void refill();
    void release_held();

    BlockDevice& device_;
    ReadAheadShape shape_;
    std::uint32_t sector_size_;
    std::uint64_t capacity_;
    std::shared_ptr<Core> core_;
    std::deque<std::size_t> issued_;  ///< current-range slots in range order
    std::ptrdiff_t held_ = -1;        ///< the slot whose bytes next() last returned
    std::uint64_t generation_ = 0;
    std::uint32_t window_ = 1;                        ///< requests allowed ahead now (ramp)
    std::uint64_t first_ = 0, end_ = 0;               ///< the range, bytes
    std::uint64_t next_sector_ = 0, end_sector_ = 0;  ///< what is left to request
};

}  // namespace netloom::apps
