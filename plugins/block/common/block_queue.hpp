// block_queue.hpp — BlockQueue: the request side every block driver shares. It refuses bad
// requests (block_keys.hpp), splits each request into operations of at most
// `max_sectors_per_request` sectors, starts at most `max_in_flight` operations at once through
// the driver's `start`, and completes each request once all its operations have ended.
//
// Contract: single-threaded, on the scheduler's thread. `submit` never calls a completion: every
// completion, refusals included, runs from a callback posted to the scheduler. Operations start in
// submission order (FIFO); a flush is a barrier: it starts only when every operation before it
// has ended, so it completes after every write submitted before it (stronger than block.hpp
// asks). The driver reports the end of each started operation exactly once with `finish`, from
// inside `start` (blk_ram, blk_sync) or later (blk_uring): the request sees it on a posted
// callback either way, so an operation occupies its in-flight slot until then. A request's error
// is its first failed operation's; its operations not yet started are then dropped. Destroying the
// queue abandons every request without calling its completion; callbacks already posted do
// nothing. A completion may submit more requests or destroy the queue's device.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "netloom/block.hpp"
#include "netloom/counters.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::block {

struct BlockOperation {
    std::uint64_t request = 0;  ///< pass to BlockQueue::finish
    BlockOp op = BlockOp::read;
    std::uint64_t sector = 0;
    std::span<std::uint8_t> buffer;  ///< a piece of the request's buffer; empty for flush
};

class BlockQueue {
public:
    using Start = std::function<void(const BlockOperation& operation)>;

    BlockQueue(Scheduler& scheduler, const BlockGeometry& geometry, Start start);
    ~BlockQueue();
    BlockQueue(const BlockQueue&) = delete;
    BlockQueue& operator=(const BlockQueue&) = delete;

    void submit(const BlockRequest& request, BlockCompletion done);
    /// The end of an operation `start` was given: 0 or a positive errno.
    void finish(std::uint64_t request, int error);

    std::size_t in_flight() const noexcept { return in_flight_; }
    /// Requests submitted whose completion has not run yet.
    std::size_t pending() const noexcept { return requests_.size(); }

    /// requests by kind, bytes moved, refusals and errors by errno, operations, split requests,
    /// and the in-flight and waiting gauges with their peaks.
    void visit_counters(const CounterVisitor& visit) const;

private:
    struct Request {
        BlockOp op;
        std::uint64_t sector;
        std::span<std::uint8_t> buffer;
        BlockCompletion done;
        std::size_t dispatched = 0;     ///< bytes handed to operations (flush: 1 once started)
        std::uint32_t outstanding = 0;  ///< operations started and not yet finished
        int error = 0;
    };
    struct Finished {
        std::uint64_t request;
        int error;
    };

    bool fully_dispatched(const Request& r) const noexcept;
    void pump();
    void post_drain();
    void drain();
    void count_completion(const Request& r);

    Scheduler& scheduler_;
    BlockGeometry geometry_;
    Start start_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Request> requests_;
    std::deque<std::uint64_t> waiting_;  ///< requests with operations not yet started, FIFO
    std::vector<Finished> finished_;     ///< operations ended since the last drain
    std::vector<std::uint64_t> ready_;   ///< requests to complete at the next drain
    std::size_t in_flight_ = 0;
    bool drain_posted_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

    struct Counts {
        std::uint64_t reads = 0, writes = 0, flushes = 0;
        std::uint64_t bytes_read = 0, bytes_written = 0;
        std::uint64_t operations = 0, requests_split = 0;
        std::uint64_t refused_einval = 0, refused_erofs = 0;
        std::uint64_t errors_eio = 0, errors_other = 0;
        std::uint64_t in_flight_peak = 0, waiting_peak = 0;
    } counts_;
};

}  // namespace netloom::block
