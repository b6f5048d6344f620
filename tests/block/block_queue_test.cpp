// BlockQueue (plugins/block/common): the exact splitting, FIFO order, in-flight limit, flush
// barrier, error handling and posted completions, against a backend the test finishes by hand.
#include <cerrno>
#include <deque>

#include <catch2/catch.hpp>

#include "block_queue.hpp"
#include "block_test_support.hpp"
#include "manual_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;
using block::BlockOperation;
using block::BlockQueue;

namespace {

struct QueueRig {
    ManualScheduler sched;
    BlockGeometry geometry{.sector_size = 512,
                           .sectors = 1000,
                           .read_only = false,
                           .max_sectors_per_request = 4,
                           .max_in_flight = 2};
    std::deque<BlockOperation> started;  // operations the backend holds, oldest first
    bool finish_at_once = false;
    std::unique_ptr<BlockQueue> queue;

    explicit QueueRig(std::uint32_t max_in_flight = 2) {
        geometry.max_in_flight = max_in_flight;
        queue = std::make_unique<BlockQueue>(sched, geometry, [this](const BlockOperation& op) {
            if (finish_at_once)
                queue->finish(op.request, 0);
            else
                started.push_back(op);
        });
    }
    /// Ends the oldest started operation with `error`.
    void finish_oldest(int error = 0) {
        REQUIRE_FALSE(started.empty());
        const BlockOperation op = started.front();
        started.pop_front();
        queue->finish(op.request, error);
    }
    std::uint64_t count(std::string_view name) {
        std::optional<std::uint64_t> found;
        queue->visit_counters([&](std::string_view n, std::uint64_t v) {
            if (n == name) found = v;
        });
        REQUIRE(found.has_value());
        return *found;
    }
};

}  // namespace

TEST_CASE("block queue: a request is split at max_sectors, at most max_in_flight at once") {
    QueueRig rig;
    Bytes buffer(10 * 512);
    Outcome outcome;
    rig.queue->submit({BlockOp::read, 100, buffer}, outcome.callback());
    REQUIRE(rig.started.size() == 2);  // 4 + 4 sectors; the last 2 wait for a slot
    CHECK(rig.started[0].sector == 100);
    CHECK(rig.started[0].buffer.data() == buffer.data());
    CHECK(rig.started[0].buffer.size() == 4 * 512);
    CHECK(rig.started[1].sector == 104);
    CHECK(rig.started[1].buffer.data() == buffer.data() + 4 * 512);
    CHECK(rig.queue->in_flight() == 2);

    rig.finish_oldest();
    CHECK(rig.started.size() == 1);  // the slot frees on the posted drain, not inside finish
    rig.sched.run_until_idle();
    REQUIRE(rig.started.size() == 2);
    CHECK(rig.started[1].sector == 108);
    CHECK(rig.started[1].buffer.size() == 2 * 512);
    rig.finish_oldest();
    rig.finish_oldest();
    CHECK_FALSE(outcome.completed);
    rig.sched.run_until_idle();
    CHECK(outcome.completed);
    CHECK(outcome.error == 0);
    CHECK(rig.count("operations") == 3);
    CHECK(rig.count("requests_split") == 1);
    CHECK(rig.count("in_flight_peak") == 2);
    CHECK(rig.count("bytes_read") == 10 * 512);
}

TEST_CASE("block queue: operations start in submission order") {
    QueueRig rig(1);
    Bytes a(512), b(512), c(512);
    std::vector<int> order;
    rig.queue->submit({BlockOp::read, 1, a}, [&](int) { order.push_back(1); });
    rig.queue->submit({BlockOp::write, 2, b}, [&](int) { order.push_back(2); });
    rig.queue->submit({BlockOp::read, 3, c}, [&](int) { order.push_back(3); });
    for (std::uint64_t sector = 1; sector <= 3; ++sector) {
        REQUIRE(rig.started.size() == 1);
        CHECK(rig.started.front().sector == sector);
        rig.finish_oldest();
        rig.sched.run_until_idle();
    }
    CHECK(order == std::vector<int>{1, 2, 3});
    CHECK(rig.count("waiting_peak") == 2);  // the first started at once
}

TEST_CASE("block queue: a flush starts only once every earlier operation has ended") {
    QueueRig rig(4);
    Bytes a(512), b(512), c(512);
    std::vector<std::string> order;
    rig.queue->submit({BlockOp::write, 1, a}, [&](int) { order.push_back("w1"); });
    rig.queue->submit({BlockOp::write, 2, b}, [&](int) { order.push_back("w2"); });
    rig.queue->submit({BlockOp::flush, 0, {}}, [&](int) { order.push_back("flush"); });
    rig.queue->submit({BlockOp::write, 3, c}, [&](int) { order.push_back("w3"); });
    REQUIRE(rig.started.size() == 2);  // the flush waits, and w3 behind it
    rig.finish_oldest();
    rig.sched.run_until_idle();
    CHECK(rig.started.size() == 1);
    rig.finish_oldest();
    rig.sched.run_until_idle();
    REQUIRE(rig.started.size() == 2);  // the flush, then w3 (FIFO, after the flush started)
    CHECK(rig.started[0].op == BlockOp::flush);
    CHECK(rig.started[1].sector == 3);
    rig.finish_oldest();
    rig.finish_oldest();
    rig.sched.run_until_idle();
    CHECK(order == std::vector<std::string>{"w1", "w2", "flush", "w3"});
}

TEST_CASE("block queue: a failed operation fails its request and drops its unstarted pieces") {
    QueueRig rig(1);
    Bytes buffer(12 * 512);
    Outcome failed, next;
    Bytes other(512);
    rig.queue->submit({BlockOp::read, 0, buffer}, failed.callback());
    rig.queue->submit({BlockOp::read, 50, other}, next.callback());
    rig.finish_oldest(EIO);
    rig.sched.run_until_idle();
    CHECK(failed.completed);
    CHECK(failed.error == EIO);
    REQUIRE(rig.started.size() == 1);  // the next request, not the failed one's pieces
    CHECK(rig.started.front().sector == 50);
    rig.finish_oldest();
    rig.sched.run_until_idle();
    CHECK(next.error == 0);
    CHECK(rig.count("operations") == 2);
    CHECK(rig.count("errors_eio") == 1);
    CHECK(rig.count("bytes_read") == 512);
}

TEST_CASE("block queue: the first error of a request wins, with every piece ended first") {
    QueueRig rig(4);
    Bytes buffer(12 * 512);
    Outcome outcome;
    rig.queue->submit({BlockOp::write, 0, buffer}, outcome.callback());
    REQUIRE(rig.started.size() == 3);
    rig.queue->finish(rig.started[1].request, ENOSPC);
    rig.queue->finish(rig.started[2].request, EIO);
    rig.sched.run_until_idle();
    CHECK_FALSE(outcome.completed);  // the first piece is still running: its buffer is in use
    rig.queue->finish(rig.started[0].request, 0);
    rig.sched.run_until_idle();
    CHECK(outcome.error == ENOSPC);
    CHECK(rig.count("errors_other") == 1);
}

TEST_CASE("block queue: refusals and empty requests complete on a posted callback") {
    QueueRig rig;
    rig.geometry.read_only = true;
    rig.queue = std::make_unique<BlockQueue>(
        rig.sched, rig.geometry, [&](const BlockOperation& op) { rig.started.push_back(op); });
    Bytes odd(100), one(512), none;
    Outcome einval, erofs, past, empty, flush;
    rig.queue->submit({BlockOp::read, 0, odd}, einval.callback());
    rig.queue->submit({BlockOp::write, 0, one}, erofs.callback());
    rig.queue->submit({BlockOp::read, 1000, one}, past.callback());
    rig.queue->submit({BlockOp::read, 1000, none}, empty.callback());
    rig.queue->submit({BlockOp::flush, 0, one}, flush.callback());  // a flush ignores its buffer
    CHECK_FALSE(einval.completed);
    CHECK(rig.started.size() == 1);  // only the flush reaches the backend
    CHECK(rig.started.front().buffer.empty());
    rig.finish_oldest();
    rig.sched.run_until_idle();
    CHECK(einval.error == EINVAL);
    CHECK(erofs.error == EROFS);
    CHECK(past.error == EINVAL);
    CHECK(empty.error == 0);
    CHECK(flush.error == 0);
    CHECK(rig.count("refused_einval") == 2);
    CHECK(rig.count("refused_erofs") == 1);
}

TEST_CASE("block queue: finishing inside start still completes later, one slot at a time") {
    QueueRig rig(1);
    rig.finish_at_once = true;
    Bytes buffer(20 * 512);
    Outcome outcome;
    rig.queue->submit({BlockOp::read, 0, buffer}, outcome.callback());
    CHECK(rig.count("operations") == 1);  // the slot stays taken until the drain
    CHECK_FALSE(outcome.completed);
    CHECK(rig.sched.run_posted() == 1);
    CHECK(rig.count("operations") == 2);
    rig.sched.run_until_idle();
    CHECK(outcome.completed);
    CHECK(rig.count("operations") == 5);
    CHECK(rig.count("in_flight_peak") == 1);
}

TEST_CASE("block queue: destroying it abandons requests, and posted drains do nothing") {
    QueueRig rig;
    Bytes buffer(8 * 512);
    Outcome outcome;
    rig.queue->submit({BlockOp::read, 0, buffer}, outcome.callback());
    rig.finish_oldest();
    rig.queue.reset();
    CHECK(rig.sched.pending_posted() == 1);
    rig.sched.run_until_idle();
    CHECK_FALSE(outcome.completed);
}

TEST_CASE("block queue: a completion may destroy the queue, and later ones do not run") {
    QueueRig rig(4);
    Bytes a(512), b(512);
    int calls = 0;
    rig.queue->submit({BlockOp::read, 0, a}, [&](int) {
        ++calls;
        rig.queue.reset();
    });
    rig.queue->submit({BlockOp::read, 1, b}, [&](int) { ++calls; });
    rig.finish_oldest();
    rig.finish_oldest();  // both ready in the same drain
    rig.sched.run_until_idle();
    CHECK(calls == 1);
}
