// blk_uring's request path: requests cut into pieces, pieces into the ring's slots, completions
// reaped from the shared completion queue. Opening the file and the ring: uring_setup.cpp.
#include "uring_device.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "block_keys.hpp"

namespace netloom::block {

std::string UringDevice::describe() const {
    std::string text = "uring(" + options_.path + ", ";
    text += direct_ ? "O_DIRECT" : "buffered";
    if (!direct_note_.empty()) text += ": " + direct_note_;
    text += ", sector " + std::to_string(geometry_.sector_size) + ", depth " +
            std::to_string(options_.queue_depth) + ")";
    return text;
}

BlockBuffer UringDevice::allocate(std::size_t bytes) {
    if (!pool_) return BlockDevice::allocate(bytes);  // check_only: nothing was set up
    return pool_->allocate(bytes);
}

void UringDevice::finish_later(BlockCompletion done, int error) {
    // block.hpp: never call back from inside submit. The token keeps a destroyed device's
    // completions from running (destruction abandons them).
    std::weak_ptr<int> alive = alive_;
    scheduler_.post([alive, done = std::move(done), error] {
        if (!alive.expired()) done(error);
    });
}

void UringDevice::submit(const BlockRequest& request, BlockCompletion done) {
    const std::uint32_t sector_size = geometry_.sector_size;
    if (request.op == BlockOp::flush) {
        ++counters_.flushes;
        if (geometry_.read_only || !ring_ready_) {  // nothing was ever written
            finish_later(std::move(done), 0);
            return;
        }
        if (waiting_.size() >= free_slots_.size()) ++counters_.operations_queued;
        Piece piece;
        piece.request = new Request{std::move(done), 1, 0};
        piece.op = BlockOp::flush;
        waiting_.push_back(std::move(piece));
    } else {
        const bool write = request.op == BlockOp::write;
        ++(write ? counters_.writes : counters_.reads);
        if (const int refused = refusal(geometry_, request); refused != 0) {
            ++(refused == EROFS ? counters_.refused_erofs : counters_.refused_einval);
            finish_later(std::move(done), refused);
            return;
        }
        const std::size_t bytes = request.buffer.size();
        const std::uint64_t count = bytes / sector_size;
        if (count == 0) {
            finish_later(std::move(done), 0);
            return;
        }
        (write ? counters_.bytes_written : counters_.bytes_read) += bytes;
        const std::uint64_t max = geometry_.max_sectors_per_request;
        const auto pieces = static_cast<std::uint32_t>((count + max - 1) / max);
        if (pieces > 1) ++counters_.requests_split;
        auto* shared = new Request{std::move(done), pieces, 0};
        for (std::uint64_t first = 0; first < count; first += max) {
            Piece piece;
            piece.request = shared;
            piece.op = request.op;
            piece.offset = (request.sector + first) * sector_size;
            piece.data = request.buffer.data() + first * sector_size;
            piece.length = static_cast<std::uint32_t>(std::min(max, count - first) * sector_size);
            // Pinned now, not when started: the caller may release allocate()d memory as soon
            // as submit returns (block.hpp).
            piece.pinned = pool_->find(piece.data, piece.length);
            if (piece.pinned) pool_->pin(*piece.pinned);
            if (waiting_.size() >= free_slots_.size()) ++counters_.operations_queued;
            waiting_.push_back(std::move(piece));
        }
    }
    counters_.waiting_peak = std::max<std::uint64_t>(counters_.waiting_peak, waiting_.size());
    start_pieces();
    // At once, not at the end of the loop turn or of a reap: each request reaches the disk as
    // soon as it is made (one io_uring_enter per submit). Batching the resubmissions of a reap kept
    // a depth-8 reader in lockstep on a virtio disk, which completes what one notification brought
    // in one interrupt: 8 issued, 8 completed together, the disk idle while they were resubmitted
    // (bench/block/README.md).
    flush_submissions();
}

void UringDevice::start_pieces() {
    while (!waiting_.empty() && !free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        Piece& piece = slots_[slot];
        piece = std::move(waiting_.front());
        waiting_.pop_front();
        const auto address = reinterpret_cast<std::uintptr_t>(piece.data);
        if (piece.op != BlockOp::flush && direct_ && address % memory_alignment_ != 0) {
            // O_DIRECT would refuse this buffer (EINVAL): go through aligned memory instead.
            piece.bounce = pool_->allocate(piece.length);
            if (piece.op == BlockOp::write)
                std::memcpy(piece.bounce.data(), piece.data, piece.length);
            ++counters_.bounced_operations;
            counters_.bounced_bytes += piece.length;
        }
        ++in_flight_;
        counters_.in_flight_peak = std::max<std::uint64_t>(counters_.in_flight_peak, in_flight_);
        prepare(slot);
    }
}

void UringDevice::prepare(std::uint32_t slot) {
    Piece& piece = slots_[slot];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
        // The ring has at least queue_depth entries and at most queue_depth operations are
        // out, so a full queue means prepared entries not yet handed over: hand them over.
        flush_submissions();
        sqe = io_uring_get_sqe(&ring_);
        if (!sqe) throw std::logic_error("blk_uring: submission queue full");
    }
    std::uint8_t* memory = (piece.bounce.data() ? piece.bounce.data() : piece.data);
    std::uint8_t* at = memory + piece.transferred;
    const std::uint32_t length = piece.length - piece.transferred;
    const std::uint64_t offset = piece.offset + piece.transferred;
    const bool fixed = fixed_buffers_ && pool_->in_region(at, length);
    switch (piece.op) {
        case BlockOp::read:
            if (fixed) {
                io_uring_prep_read_fixed(sqe, fd_, at, length, offset, 0);
            } else {
                io_uring_prep_read(sqe, fd_, at, length, offset);
            }
            break;
        case BlockOp::write:
            if (fixed) {
                io_uring_prep_write_fixed(sqe, fd_, at, length, offset, 0);
            } else {
                io_uring_prep_write(sqe, fd_, at, length, offset);
            }
            break;
        case BlockOp::flush: io_uring_prep_fsync(sqe, fd_, 0); break;
    }
    io_uring_sqe_set_data64(sqe, slot);
    ++unsubmitted_;
    ++counters_.operations;
    if (fixed) ++counters_.operations_fixed;
}

void UringDevice::flush_submissions() {
    if (unsubmitted_ == 0) return;
    ++counters_.submit_calls;
    const int submitted = io_uring_submit(&ring_);
    if (submitted >= 0) {
        unsubmitted_ -=
            std::min<std::uint32_t>(unsubmitted_, static_cast<std::uint32_t>(submitted));
        return;
    }
    // EAGAIN/EBUSY: the kernel is short of room for now. The entries stay in the ring; retry
    // on a later loop turn (a completion's wake-up would retry too, but there may be none).
    log_->warn("{}: io_uring_submit: {}; retrying", describe(), std::strerror(-submitted));
    std::weak_ptr<int> alive = alive_;
    scheduler_.post([this, alive] {
        if (!alive.expired()) flush_submissions();
    });
}

bool UringDevice::reap_completions() {
    // At most about one ring's worth per call: when each completion's resubmission finds new
    // completions posted (the kernel posts them on the way out of io_uring_enter) this could go
    // on for as long as the device is busy, and the loop has other work. The rest waits for the
    // next turn: the poller says so, and the ring's fd stays readable.
    std::uint32_t budget = options_.queue_depth;
    const std::weak_ptr<int> alive = alive_;
    std::vector<Finished> finished;
    while (budget > 0 && io_uring_cq_ready(&ring_) != 0) {
        io_uring_cqe* cqes[64];
        while (budget > 0) {
            const unsigned count = io_uring_peek_batch_cqe(&ring_, cqes, std::min(64u, budget));
            if (count == 0) break;
            for (unsigned i = 0; i < count; ++i) {
                complete_piece(static_cast<std::uint32_t>(cqes[i]->user_data), cqes[i]->res,
                               finished);
            }
            io_uring_cq_advance(&ring_, count);
            counters_.completions_reaped += count;
            budget -= count;
        }
        start_pieces();  // the kernel works on the queue while the completions run
        flush_submissions();
        for (auto& one : finished) {
            one.done(one.error);
            if (alive.expired()) return false;  // a completion destroyed the device
        }
        finished.clear();
    }
    return io_uring_cq_ready(&ring_) != 0;
}

void UringDevice::complete_piece(std::uint32_t slot, int result, std::vector<Finished>& finished) {
    Piece& piece = slots_[slot];
    int error = 0;
    if (result < 0) {
        error = -result;
    } else if (piece.op != BlockOp::flush) {
        piece.transferred += static_cast<std::uint32_t>(result);
        if (piece.transferred < piece.length) {
            if (result == 0) {
                error = EIO;  // end of file inside the device: the file shrank under us
            } else {
                ++counters_.short_transfers;
                prepare(slot);  // continue where the kernel stopped; the slot stays in use
                return;
            }
        } else if (piece.op == BlockOp::read && piece.bounce.data()) {
            std::memcpy(piece.data, piece.bounce.data(), piece.length);
        }
    }
    if (error != 0) {
        ++(error == EIO ? counters_.errors_eio : counters_.errors_other);
        if (piece.request->error == 0) piece.request->error = error;
        log_->debug(
            "{}: {} of {} bytes at {}: {}", describe(),
            piece.op == BlockOp::flush ? "fsync" : (piece.op == BlockOp::read ? "read" : "write"),
            piece.length, piece.offset, std::strerror(error));
    }
    --in_flight_;
    free_slots_.push_back(slot);
    if (Request* request = release_piece(piece)) {
        finished.push_back({std::move(request->done), request->error});
        delete request;
    }
}

UringDevice::Request* UringDevice::release_piece(Piece& piece) noexcept {
    if (piece.pinned) pool_->unpin(*piece.pinned);
    Request* request = piece.request;
    piece = Piece{};  // drops the bounce buffer too
    if (--request->pieces_left != 0) return nullptr;
    return request;
}

void UringDevice::visit_counters(const CounterVisitor& visit) const {
    const Counters& c = counters_;
    visit("read_requests", c.reads);
    visit("write_requests", c.writes);
    visit("flush_requests", c.flushes);
    visit("bytes_read", c.bytes_read);
    visit("bytes_written", c.bytes_written);
    visit("operations", c.operations);
    visit("requests_split", c.requests_split);
    visit("refused_einval", c.refused_einval);
    visit("refused_erofs", c.refused_erofs);
    visit("errors_eio", c.errors_eio);
    visit("errors_other", c.errors_other);
    visit("in_flight_current", in_flight_);
    visit("in_flight_peak", c.in_flight_peak);
    visit("waiting_current", waiting_.size());
    visit("waiting_peak", c.waiting_peak);
    visit("operations_fixed", c.operations_fixed);
    visit("operations_queued", c.operations_queued);
    visit("bounced_operations", c.bounced_operations);
    visit("bounced_bytes", c.bounced_bytes);
    visit("short_transfers", c.short_transfers);
    visit("wakeups", c.wakeups);
    visit("turn_reaps", c.turn_reaps);
    visit("completions_reaped", c.completions_reaped);
    visit("submit_calls", c.submit_calls);
    visit("registered_allocations", pool_ ? pool_->registered_allocations() : 0);
    visit("heap_allocations", pool_ ? pool_->heap_allocations() : 0);
}

}  // namespace netloom::block
