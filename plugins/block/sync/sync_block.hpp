// sync_block.hpp — `blk_sync`: a file (or block device node) read and written with one blocking
// pread/pwrite per operation on the loop thread — the simplest driver, and with
// `sectors_per_request: 1` the single-sector path the seed measured.
//
// Contract: block.hpp's, through BlockQueue with max_in_flight 1: an operation of at most
// `sectors_per_request` sectors runs to its end inside the call that starts it (the loop blocks
// meanwhile) and its request completes on a posted callback, never inside submit. flush is
// fdatasync. A short transfer is continued; one that reaches the end of the file is EIO, as is any
// other failure (its errno is kept when positive and not EINVAL/EROFS: e.g. ENOSPC). The capacity
// is `size` when given (the file must be that large unless `create` grows it), else the file's
// size in whole sectors. `direct: true` opens with O_DIRECT: buffers from allocate() are aligned
// to 4 KiB; other buffers not aligned to the sector size go through a bounce buffer. Under
// `netloom check` nothing is opened or created (the capacity is then `size`, or 0).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "block_queue.hpp"
#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace netloom::block {

struct SyncOptions {
    std::string path;
    std::uint32_t sector_size = 512;
    bool read_only = false;
    std::uint32_t sectors_per_request = 256;
    bool create = false;
    bool direct = false;
    std::uint64_t size = 0;  ///< bytes; 0: the file's size

    static SyncOptions from_config(const Config& config);
};

class SyncBlockDevice final : public BlockDevice {
public:
    SyncBlockDevice(const SyncOptions& options, Scheduler& scheduler, bool check_only = false);
    ~SyncBlockDevice() override;

    BlockGeometry geometry() const noexcept override { return geometry_; }
    std::string describe() const override;
    void submit(const BlockRequest& request, BlockCompletion done) override;
    void visit_counters(const CounterVisitor& visit) const override;

private:
    void run(const BlockOperation& operation);
    int transfer(const BlockOperation& operation);

    SyncOptions options_;
    BlockGeometry geometry_;
    int fd_ = -1;
    BlockBuffer bounce_;  ///< O_DIRECT copies of unaligned buffers, grown on demand
    std::unique_ptr<BlockQueue> queue_;
    std::uint64_t syscalls_ = 0, bounced_ = 0;
};

std::unique_ptr<SyncBlockDevice> make_sync_block(const Config& config, Env& env);

}  // namespace netloom::block
