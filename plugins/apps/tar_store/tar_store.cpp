// The tar store: its keys, the index build (TarScanner fed through a BlockReadAhead over the
// whole device) and readers for serving; see tar_store.hpp.
#include "tar_store.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

namespace netloom::apps {

namespace {

// Hands the scanner the bytes it asks for. A header comes straight out of the current chunk: a
// 512-byte block never straddles two, as chunks start and end on sector boundaries and sectors
// are multiples of 512 B. A pax header or long name that straddles is copied together. A skip
// to an offset already requested costs nothing; beyond that the read-ahead restarts there,
// ramping up from one request, so little member data is read past a header.
class ScanCursor {
public:
    ScanCursor(BlockReadAhead& ahead, std::uint64_t device_bytes)
        : ahead_(ahead), device_bytes_(device_bytes) {}

    /// `bytes` bytes from `offset` into `out` (valid until the next read): 0 or an errno.
    Task<int> read(std::uint64_t offset, std::size_t bytes, std::span<const std::uint8_t>& out) {
        joined_.clear();
        std::uint64_t at = offset;
        for (;;) {
            const std::uint64_t chunk_end = chunk_.offset + chunk_.bytes.size();
            if (at >= chunk_.offset && at < chunk_end) {
                const auto from = static_cast<std::size_t>(at - chunk_.offset);
                const auto take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(bytes - joined_.size(), chunk_end - at));
                if (joined_.empty() && take == bytes) {
                    out = chunk_.bytes.subspan(from, take);
                    co_return 0;
                }
                joined_.insert(joined_.end(), chunk_.bytes.begin() + from,
                               chunk_.bytes.begin() + from + take);
                at += take;
                if (joined_.size() == bytes) {
                    out = joined_;
                    co_return 0;
                }
                continue;
            }
            if (at < chunk_end || at >= ahead_.requested_end()) {
                ahead_.start(at, device_bytes_, /*ramp=*/true);
            }
            chunk_ = co_await ahead_.next();
            if (chunk_.error != 0) co_return chunk_.error;
            if (chunk_.bytes.empty()) co_return EIO;  // the scanner never asks past the device
        }
    }

private:
    BlockReadAhead& ahead_;
    std::uint64_t device_bytes_;
    BlockReadAhead::Chunk chunk_;
    std::vector<std::uint8_t> joined_;
};

}  // namespace

TarStoreOptions TarStoreOptions::from_config(const Config& config, const BlockGeometry& geometry) {
    TarStoreOptions o;
    o.block = config.get_string("block");
    const std::uint64_t sector = std::max<std::uint32_t>(geometry.sector_size, 1);
    o.shape.read_size = static_cast<std::uint32_t>(
        config.get_int("read_size", 128, 1, static_cast<std::int64_t>(kMaxRequestBytes / sector)));
    o.shape.in_flight = static_cast<std::uint32_t>(config.get_int("in_flight", 4, 1, kMaxInFlight));
    o.limits.max_entries =
        static_cast<std::size_t>(config.get_int("max_entries", 100'000, 1, 10'000'000));
    o.limits.max_name_bytes =
        static_cast<std::size_t>(config.get_int("max_name_bytes", 1024, 1, 4096));
    const std::uint64_t index_bytes = config.get_size("max_index_bytes", 64u << 20);
    if (index_bytes < 4096 || index_bytes > (1u << 30)) {
        config.fail("max_index_bytes", "a size from 4KiB to 1GiB",
                    config.get_string("max_index_bytes"));
    }
    o.limits.max_index_bytes = static_cast<std::size_t>(index_bytes);
    return o;
}

TarStore::TarStore(BlockDevice& device, TarStoreOptions options,
                   std::shared_ptr<spdlog::logger> log)
    : device_(device), options_(std::move(options)), log_(std::move(log)) {}

Task<void> TarStore::build() {
    if (building_ || ready_) co_return;
    building_ = true;
    const std::uint64_t device_bytes = device_.geometry().bytes();
    TarScanner scanner(device_bytes, options_.limits);
    {
        BlockReadAhead ahead(device_, options_.shape);
        ScanCursor cursor(ahead, device_bytes);
        while (const auto need = scanner.need()) {
            std::span<const std::uint8_t> data;
            const int error = co_await cursor.read(need->offset, need->bytes, data);
            if (error != 0) {
                scanner.read_failed(error);
                break;
            }
            scanner.supply(data);
        }
    }
    index_ = scanner.take_index();
    counts_ = scanner.counts();
    ready_ = true;
    log_outcome(scanner.refusal());
}

void TarStore::log_outcome(const std::string& refusal) const {
    const TarScanCounts& c = counts_;
    if (c.refused) {
        log_->error("{}: archive refused, nothing is served: {}", describe(), refusal);
        return;
    }
    log_->info("{}: {} files, index {} B, {} headers read", describe(), index_.files(),
               index_.memory_bytes(), c.members);
    if (c.index_truncated) {
        log_->warn(
            "{}: indexing stopped at a limit (max_entries {}, max_index_bytes {}): later "
            "members are not served",
            options_.block, options_.limits.max_entries, options_.limits.max_index_bytes);
    }
    const std::uint64_t skipped = c.skipped_links + c.skipped_special + c.skipped_unsafe_names +
                                  c.skipped_long_names + c.skipped_other;
    if (skipped + c.duplicate_names > 0) {
        log_->warn(
            "{}: not served: {} links, {} devices or FIFOs, {} unsafe names, {} names over "
            "{} B, {} other; {} names replaced by a later member",
            options_.block, c.skipped_links, c.skipped_special, c.skipped_unsafe_names,
            c.skipped_long_names, options_.limits.max_name_bytes, c.skipped_other,
            c.duplicate_names);
    }
}

std::unique_ptr<BlockReadAhead> TarStore::open(const TarExtent& extent, std::uint64_t first,
                                               std::uint64_t length) {
    auto reader = std::make_unique<BlockReadAhead>(device_, options_.shape);
    const std::uint64_t from = extent.offset + std::min(first, extent.size);
    reader->start(from, from + std::min(length, extent.size - std::min(first, extent.size)));
    return reader;
}

std::uint64_t TarStore::reader_bytes() const noexcept {
    return std::uint64_t{options_.shape.in_flight} * options_.shape.read_size *
           device_.geometry().sector_size;
}

std::string TarStore::describe() const {
    return "tar store on " + options_.block + " (" + device_.describe() + ", read_size " +
           std::to_string(options_.shape.read_size) + ", in_flight " +
           std::to_string(options_.shape.in_flight) + ")";
}

void TarStore::visit_counters(const CounterVisitor& visit) const {
    const TarScanCounts& c = counts_;
    visit("store_ready", ready_ ? 1 : 0);
    visit("store_files", index_.files());
    visit("store_index_bytes", index_.memory_bytes());
    visit("store_members", c.members);
    visit("store_directories", c.directories);
    visit("store_skipped_links", c.skipped_links);
    visit("store_skipped_special", c.skipped_special);
    visit("store_skipped_unsafe_names", c.skipped_unsafe_names);
    visit("store_skipped_long_names", c.skipped_long_names);
    visit("store_skipped_other", c.skipped_other);
    visit("store_duplicate_names", c.duplicate_names);
    visit("store_index_truncated", c.index_truncated);
    visit("store_refused", c.refused);
}

}  // namespace netloom::apps
