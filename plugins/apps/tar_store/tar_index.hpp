// tar_index.hpp — TarIndex: member names of a tar archive mapped to where their data lies on
// the device, in memory whose size is counted and bounded; TarIndexBuilder fills one.
//
// Contract: the builder refuses (Add::full, nothing added) the entry that would take the index
// past `max_entries` or `max_index_bytes`; the bytes counted are every name's bytes plus
// sizeof(Entry) (24 B) per entry, tombstones and not-yet-merged duplicates included (while it is
// built, vector growth may hold up to twice that). `finish` keeps, for each name, the last entry
// added, as tar extraction leaves the last member of a name on disk: a later tombstone (a link,
// a directory... of that name, which is not served) removes an earlier file. The finished index
// is immutable and sorted; `find` is a binary search on exact names (normalised, without a
// leading '/').
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netloom::apps {

/// Where a member's data lies: `size` bytes from byte `offset` of the device.
struct TarExtent {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    bool operator==(const TarExtent&) const = default;
};

struct TarLimits {
    std::size_t max_entries = 100'000;
    std::size_t max_name_bytes = 1024;
    std::size_t max_index_bytes = 64u << 20;
};

class TarIndex {
public:
    struct Entry {
        std::uint64_t offset = 0;
        std::uint64_t size = 0;  ///< kTombstone: a name that is not served
        std::uint32_t name_at = 0, name_length = 0;
    };
    static constexpr std::uint64_t kTombstone = UINT64_MAX;

    std::optional<TarExtent> find(std::string_view name) const;
    std::size_t files() const noexcept { return entries_.size(); }
    /// Bytes counted as the builder counts them.
    std::size_t memory_bytes() const noexcept {
        return names_.size() + entries_.size() * sizeof(Entry);
    }
    /// The n-th name in sorted order (n < files()).
    std::string_view name(std::size_t n) const;

private:
    friend class TarIndexBuilder;
    std::string names_;
    std::vector<Entry> entries_;  ///< sorted by name, one per name, no tombstones
};

class TarIndexBuilder {
public:
    enum class Add : std::uint8_t { added, full };

    explicit TarIndexBuilder(const TarLimits& limits) : limits_(limits) {}
    /// A regular file's data.
    Add add(std::string_view name, TarExtent extent) { return push(name, extent); }
    /// A later member named `name` that is not served: it hides the earlier ones.
    Add hide(std::string_view name) { return push(name, {0, TarIndex::kTombstone}); }
    std::size_t memory_bytes() const noexcept { return index_.memory_bytes(); }
    /// Sorts, keeps the last entry of each name, drops tombstones; `duplicates` counts the
    /// entries a later one of the same name replaced or hid.
    TarIndex finish(std::uint64_t& duplicates) &&;

private:
    Add push(std::string_view name, TarExtent extent);

    TarLimits limits_;
    TarIndex index_;
};

}  // namespace netloom::apps
