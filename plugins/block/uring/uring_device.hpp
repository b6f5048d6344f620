// uring_device.hpp — blk_uring: a BlockDevice on a file or a Linux block device, its I/O done by
// io_uring (liburing), with O_DIRECT where the file system allows it.
//
// Contract (beyond block.hpp): the file is opened once, O_DIRECT unless `direct: false` or the
// file system refuses it (then buffered, said once in the log and by describe()). A request is
// cut into kernel operations of at most `max_sectors` sectors; at most `queue_depth` of them are
// in the kernel at once, the rest wait in FIFO order. Each submit() hands its operations to the
// kernel before it returns (one io_uring_enter). Completions are reaped from the ring's shared
// completion queue, without a system call, by a poller on every loop turn before the loop waits;
// the ring's fd, watched by the scheduler, wakes the loop when it sleeps. A reap takes what is
// queued (at most about queue_depth completions per loop turn), starts the waiting operations
// they made room for, then calls the requests' completions. Memory from `allocate` comes from a
// region registered with the ring (READ_FIXED/WRITE_FIXED); other buffers use plain READ/WRITE,
// and under O_DIRECT a buffer not aligned for it goes through a bounce buffer (counted). A short
// transfer is continued from where it stopped; an end of file before the request's end is EIO.
// `flush` is one IORING_OP_FSYNC, submitted after every write that has completed (those queued
// or in flight are not waited for: block.hpp). The destructor waits for the operations the
// kernel holds and calls no completion.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "buffer_pool.hpp"
#include "netloom/block.hpp"
#include "netloom/scheduler.hpp"

namespace netloom {
class Config;
class Env;
}  // namespace netloom

namespace netloom::block {

struct UringOptions {
    std::string path;
    std::uint32_t sector_size = 0;  ///< 0: the file's direct-I/O alignment (512 when buffered)
    bool read_only = false;
    bool direct = true;                        ///< try O_DIRECT
    std::uint32_t queue_depth = 32;            ///< operations in the kernel at once (ring size)
    std::uint32_t max_sectors = 0;             ///< per operation; 0: 256 KiB worth of sectors
    std::uint64_t registered_bytes = 8 << 20;  ///< region for allocate(); 0: no fixed buffers
    bool check_only = false;                   ///< `netloom check`: validate, open nothing

    static UringOptions from_config(const Config& config);
};

/// nullptr when io_uring works here with the operations blk_uring needs, else why not.
const char* uring_unavailable();

class UringDevice final : public BlockDevice {
public:
    /// Opens the file and sets up the ring; throws std::runtime_error naming the file and the
    /// cause. `scheduler` must watch fds (not sim).
    UringDevice(UringOptions options, Scheduler& scheduler, std::shared_ptr<spdlog::logger> log);
    ~UringDevice() override;
    UringDevice(const UringDevice&) = delete;
    UringDevice& operator=(const UringDevice&) = delete;

    BlockGeometry geometry() const noexcept override { return geometry_; }
    std::string describe() const override;
    void submit(const BlockRequest& request, BlockCompletion done) override;
    BlockBuffer allocate(std::size_t bytes) override;
    void visit_counters(const CounterVisitor& visit) const override;

    bool direct() const noexcept { return direct_; }
    bool fixed_buffers() const noexcept { return fixed_buffers_; }

private:
    struct Request {
        BlockCompletion done;
        std::uint32_t pieces_left = 0;
        int error = 0;
    };
    /// One kernel operation: a request's piece of at most max_sectors sectors (or its fsync).
    struct Piece {
        Request* request = nullptr;
        BlockOp op = BlockOp::read;
        std::uint64_t offset = 0;      ///< bytes into the file
        std::uint8_t* data = nullptr;  ///< the caller's memory
        std::uint32_t length = 0;
        std::uint32_t transferred = 0;             ///< so far (short transfers continue)
        BufferPool::Allocation* pinned = nullptr;  ///< allocation kept alive meanwhile
        BlockBuffer bounce;                        ///< aligned copy, under O_DIRECT
    };
    struct Finished {
        BlockCompletion done;
        int error;
    };
    struct Counters {  // names as BlockQueue's (block/common/block_queue.hpp) where shared
        std::uint64_t reads = 0, writes = 0, flushes = 0, bytes_read = 0, bytes_written = 0;
        std::uint64_t refused_einval = 0, refused_erofs = 0, errors_eio = 0, errors_other = 0;
        std::uint64_t operations = 0, operations_fixed = 0, requests_split = 0;
        std::uint64_t operations_queued = 0, bounced_operations = 0, bounced_bytes = 0;
        std::uint64_t short_transfers = 0, wakeups = 0, turn_reaps = 0, completions_reaped = 0;
        std::uint64_t submit_calls = 0;
        std::uint64_t in_flight_peak = 0, waiting_peak = 0;
    };

    void open_file();
    void set_up_ring();
    void finish_later(BlockCompletion done, int error);
    void start_pieces();
    void prepare(std::uint32_t slot);
    void flush_submissions();
    /// Reaps what the completion queue holds (about queue_depth at most) and calls the
    /// completions; true when completions are left for the next loop turn.
    bool reap_completions();
    void complete_piece(std::uint32_t slot, int result, std::vector<Finished>& finished);
    /// Unpins and drops a piece's memory; returns its request when that was its last piece.
    Request* release_piece(Piece& piece) noexcept;
    /// Waits for the kernel's operations and frees everything (destructor, failed constructor).
    void release_resources() noexcept;

    UringOptions options_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    BlockGeometry geometry_;
    int fd_ = -1;
    bool direct_ = false;
    std::string direct_note_;             ///< why not O_DIRECT, for describe()
    std::uint32_t memory_alignment_ = 1;  ///< buffer address alignment O_DIRECT needs

    io_uring ring_{};
    bool ring_ready_ = false;
    WatchId watch_ = 0;   ///< the ring's fd: readable while completions are queued
    WatchId poller_ = 0;  ///< reaps on every loop turn, before the loop waits
    BufferPool* pool_ = nullptr;
    bool fixed_buffers_ = false;

    std::vector<Piece> slots_;  ///< one per queue_depth; request == nullptr: free
    std::vector<std::uint32_t> free_slots_;
    std::deque<Piece> waiting_;      ///< pieces beyond queue_depth
    std::uint32_t in_flight_ = 0;    ///< slots in use
    std::uint32_t unsubmitted_ = 0;  ///< SQEs prepared since the last io_uring_submit
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  ///< posted callbacks check it
    Counters counters_;
};

std::unique_ptr<BlockDevice> make_uring_device(const Config& config, Env& env);

}  // namespace netloom::block
