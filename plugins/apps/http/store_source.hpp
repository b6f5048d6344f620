// store_source.hpp — the `http` app's tar store source (`store:`): files of a tar archive on a
// block device (tar_store.hpp), looked up in the store's index, a path naming no file served by
// its "/index.html" as a directory would be.
//
// Contract: `start` spawns the index build; `open` waits until the index is built (requests
// that arrive earlier are answered after it, none refused for it), then gives the file, 404, or
// 503 for every request when the archive was refused. A body reads its range with a
// BlockReadAhead: memory per body is at most in_flight x read_size sectors, allocated when its
// range starts. A read error ends the body's stream with that errno.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "body_source.hpp"
#include "netloom/block.hpp"
#include "netloom/scheduler.hpp"
#include "tar_store.hpp"
#include "wait_list.hpp"

namespace netloom::apps {

class StoreSource final : public BodySource {
public:
    StoreSource(BlockDevice& device, TarStoreOptions options, Scheduler& scheduler,
                std::shared_ptr<spdlog::logger> log);

    void start(TaskScope& scope) override;
    Task<BodyLookup> open(const std::string& path) override;
    std::string describe() const override { return store_.describe(); }
    void visit_counters(const CounterVisitor& visit) const override {
        store_.visit_counters(visit);
    }
    TarStore& store() noexcept { return store_; }

private:
    Task<void> build();

    TarStore store_;
    WaitList ready_;  ///< requests waiting for the index
};

}  // namespace netloom::apps
