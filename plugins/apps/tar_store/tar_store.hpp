// tar_store.hpp — TarStore: read-only files served straight from a tar archive on a block
// device. At start it reads the archive's headers through the block interface (TarScanner,
// sequentially with `in_flight` requests of `read_size` sectors ahead, member data skipped) into
// a bounded name -> extent index; then each file is read with a BlockReadAhead of the same shape.
//
// Contract: single-threaded, on the scheduler's thread. `build()` runs once and never fails: an
// archive TarScanner refuses (see its policy) leaves the store empty and `refused()`, with the
// reason logged at error level and counted; limits reached are logged at warning level. Before
// build() ends, `find` finds nothing. Memory: the index (bounded by `max_index_bytes`, twice
// that while it is sorted) plus, per open reader, at most `in_flight` x `read_size` sectors.
// The device must outlive the store and its readers (block devices outlive apps).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "block_read_ahead.hpp"
#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/counters.hpp"
#include "netloom/task.hpp"
#include "tar_index.hpp"
#include "tar_scanner.hpp"

namespace netloom::apps {

struct TarStoreOptions {
    std::string block;  ///< the device's name under the config's `blocks:`
    ReadAheadShape shape;
    TarLimits limits;

    static constexpr std::uint64_t kMaxRequestBytes = 16u << 20;
    static constexpr std::uint32_t kMaxInFlight = 256;
    /// The keys of a `store:` mapping for a device of `geometry`: `block` (required),
    /// `read_size` (sectors per request, default 128, at most kMaxRequestBytes of the device's
    /// sectors), `in_flight` (1..256, default 4), `max_entries` (1..10^7, default 100000),
    /// `max_name_bytes` (1..4096, default 1024), `max_index_bytes` (4KiB..1GiB, default 64MiB).
    /// ConfigError at the key; the caller calls done().
    static TarStoreOptions from_config(const Config& config, const BlockGeometry& geometry);
};

class TarStore : public CounterSource {
public:
    TarStore(BlockDevice& device, TarStoreOptions options, std::shared_ptr<spdlog::logger> log);

    /// Reads the headers and builds the index (once).
    Task<void> build();
    bool ready() const noexcept { return ready_; }
    bool refused() const noexcept { return counts_.refused != 0; }
    /// The extent of the file `name` (normalised, no leading '/'), or nullopt.
    std::optional<TarExtent> find(std::string_view name) const { return index_.find(name); }
    /// A reader already started on bytes [first, first + length) of `extent`'s data.
    std::unique_ptr<BlockReadAhead> open(const TarExtent& extent, std::uint64_t first,
                                         std::uint64_t length);
    /// Bytes of buffers one reader may hold at most.
    std::uint64_t reader_bytes() const noexcept;
    /// "tar store on disk0 (sync(/x.tar), read_size 128, in_flight 4)".
    std::string describe() const;
    const TarScanCounts& counts() const noexcept { return counts_; }
    const TarIndex& index() const noexcept { return index_; }
    /// store_ready, store_files, store_index_bytes, store_members and TarScanCounts as store_*.
    void visit_counters(const CounterVisitor& visit) const override;

private:
    void log_outcome(const std::string& refusal) const;

    BlockDevice& device_;
    TarStoreOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    TarIndex index_;
    TarScanCounts counts_;
    bool ready_ = false, building_ = false;
};

}  // namespace netloom::apps
