// BlockQueue: refusal, splitting, the in-flight limit and posted completions for block drivers.
#include "block_queue.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "block_keys.hpp"

namespace netloom::block {

BlockQueue::BlockQueue(Scheduler& scheduler, const BlockGeometry& geometry, Start start)
    : scheduler_(scheduler), geometry_(geometry), start_(std::move(start)) {
    geometry_.max_sectors_per_request =
        std::max<std::uint32_t>(1, geometry_.max_sectors_per_request);
    geometry_.max_in_flight = std::max<std::uint32_t>(1, geometry_.max_in_flight);
}

// Posted drains hold a weak reference to alive_ and find it expired: nothing runs.
BlockQueue::~BlockQueue() = default;

void BlockQueue::submit(const BlockRequest& request, BlockCompletion done) {
    const std::uint64_t id = next_id_++;
    Request& r = requests_[id];
    r.op = request.op;
    r.sector = request.sector;
    r.buffer = request.op == BlockOp::flush ? std::span<std::uint8_t>{} : request.buffer;
    r.done = std::move(done);
    switch (request.op) {
        case BlockOp::read: ++counts_.reads; break;
        case BlockOp::write: ++counts_.writes; break;
        case BlockOp::flush: ++counts_.flushes; break;
    }
    r.error = refusal(geometry_, request);
    if (r.error != 0 || (r.op != BlockOp::flush && r.buffer.empty())) {
        if (r.error == EINVAL) ++counts_.refused_einval;
        if (r.error == EROFS) ++counts_.refused_erofs;
        r.dispatched = r.buffer.size();  // nothing to start
        ready_.push_back(id);
        post_drain();
        return;
    }
    if (r.op != BlockOp::flush &&
        r.buffer.size() > std::size_t{geometry_.max_sectors_per_request} * geometry_.sector_size)
        ++counts_.requests_split;
    waiting_.push_back(id);
    counts_.waiting_peak = std::max<std::uint64_t>(counts_.waiting_peak, waiting_.size());
    pump();
}

void BlockQueue::finish(std::uint64_t request, int error) {
    finished_.push_back({request, error});
    post_drain();
}

bool BlockQueue::fully_dispatched(const Request& r) const noexcept {
    return r.op == BlockOp::flush ? r.dispatched != 0 : r.dispatched == r.buffer.size();
}

void BlockQueue::pump() {
    const std::size_t max_bytes =
        std::size_t{geometry_.max_sectors_per_request} * geometry_.sector_size;
    while (!waiting_.empty() && in_flight_ < geometry_.max_in_flight) {
        const std::uint64_t id = waiting_.front();
        Request& r = requests_.at(id);
        BlockOperation operation{id, r.op, 0, {}};
        if (r.op == BlockOp::flush) {
            if (in_flight_ != 0) break;  // the barrier: every earlier operation ends first
            r.dispatched = 1;
        } else {
            const std::size_t bytes = std::min(max_bytes, r.buffer.size() - r.dispatched);
            operation.sector = r.sector + r.dispatched / geometry_.sector_size;
            operation.buffer = r.buffer.subspan(r.dispatched, bytes);
            r.dispatched += bytes;
        }
        if (fully_dispatched(r)) waiting_.pop_front();
        ++r.outstanding;
        ++in_flight_;
        ++counts_.operations;
        counts_.in_flight_peak = std::max<std::uint64_t>(counts_.in_flight_peak, in_flight_);
        // `start` may call finish() at once; `r` stays valid (only drain() erases requests).
        start_(operation);
    }
}

void BlockQueue::post_drain() {
    if (std::exchange(drain_posted_, true)) return;
    std::weak_ptr<bool> alive = alive_;
    scheduler_.post([this, alive] {
        if (alive.expired()) return;
        drain();
    });
}

void BlockQueue::count_completion(const Request& r) {
    if (r.error == 0) {
        if (r.op == BlockOp::read) counts_.bytes_read += r.buffer.size();
        if (r.op == BlockOp::write) counts_.bytes_written += r.buffer.size();
    } else if (r.error == EIO) {
        ++counts_.errors_eio;
    } else if (r.error != EINVAL && r.error != EROFS) {
        ++counts_.errors_other;
    }
}

void BlockQueue::drain() {
    drain_posted_ = false;
    for (const Finished& f : std::exchange(finished_, {})) {
        --in_flight_;
        auto it = requests_.find(f.request);
        if (it == requests_.end()) continue;  // cannot happen: a request outlives its operations
        Request& r = it->second;
        --r.outstanding;
        if (f.error != 0 && r.error == 0) {
            r.error = f.error;
            // The request has failed: its operations not started yet would be wasted.
            if (!fully_dispatched(r)) {
                r.dispatched = r.op == BlockOp::flush ? 1 : r.buffer.size();
                waiting_.erase(std::find(waiting_.begin(), waiting_.end(), f.request));
            }
        }
        if (r.outstanding == 0 && fully_dispatched(r)) ready_.push_back(f.request);
    }
    // Freed slots go to older waiting work before the completions can submit more.
    pump();
    std::weak_ptr<bool> alive = alive_;
    for (const std::uint64_t id : std::exchange(ready_, {})) {
        auto node = requests_.extract(id);
        Request& r = node.mapped();
        count_completion(r);
        BlockCompletion done = std::move(r.done);
        if (done) done(r.error);
        if (alive.expired()) return;  // the completion destroyed the device
    }
}

void BlockQueue::visit_counters(const CounterVisitor& visit) const {
    visit("read_requests", counts_.reads);
    visit("write_requests", counts_.writes);
    visit("flush_requests", counts_.flushes);
    visit("bytes_read", counts_.bytes_read);
    visit("bytes_written", counts_.bytes_written);
    visit("operations", counts_.operations);
    visit("requests_split", counts_.requests_split);
    visit("refused_einval", counts_.refused_einval);
    visit("refused_erofs", counts_.refused_erofs);
    visit("errors_eio", counts_.errors_eio);
    visit("errors_other", counts_.errors_other);
    visit("in_flight_current", in_flight_);
    visit("in_flight_peak", counts_.in_flight_peak);
    visit("waiting_current", waiting_.size());
    visit("waiting_peak", counts_.waiting_peak);
}

}  // namespace netloom::block
