// The tar index: a bounded name -> extent table built in archive order, then sorted with the
// last member of each name kept; see tar_index.hpp.
#include "tar_index.hpp"

#include <algorithm>
#include <numeric>

namespace netloom::apps {

namespace {

std::string_view name_of(const std::string& names, const TarIndex::Entry& e) {
    return std::string_view(names).substr(e.name_at, e.name_length);
}

}  // namespace

std::optional<TarExtent> TarIndex::find(std::string_view name) const {
    const auto it = std::lower_bound(
        entries_.begin(), entries_.end(), name,
        [this](const Entry& e, std::string_view n) { return name_of(names_, e) < n; });
    if (it == entries_.end() || name_of(names_, *it) != name) return std::nullopt;
    return TarExtent{it->offset, it->size};
}

std::string_view TarIndex::name(std::size_t n) const {
    return name_of(names_, entries_.at(n));
}

TarIndexBuilder::Add TarIndexBuilder::push(std::string_view name, TarExtent extent) {
    const std::size_t cost = name.size() + sizeof(TarIndex::Entry);
    if (index_.entries_.size() >= limits_.max_entries ||
        cost > limits_.max_index_bytes - std::min(limits_.max_index_bytes, memory_bytes()) ||
        index_.names_.size() + name.size() > UINT32_MAX) {
        return Add::full;
    }
    index_.entries_.push_back({extent.offset, extent.size,
                               static_cast<std::uint32_t>(index_.names_.size()),
                               static_cast<std::uint32_t>(name.size())});
    index_.names_.append(name);
    return Add::added;
}

TarIndex TarIndexBuilder::finish(std::uint64_t& duplicates) && {
    auto& entries = index_.entries_;
    const std::string& names = index_.names_;
    // Archive order breaks ties, so the last of equal names ends each run.
    std::vector<std::uint32_t> order(entries.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return name_of(names, entries[a]) < name_of(names, entries[b]);
    });
    TarIndex out;
    duplicates = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const TarIndex::Entry& e = entries[order[i]];
        if (i + 1 < order.size() && name_of(names, entries[order[i + 1]]) == name_of(names, e)) {
            ++duplicates;  // a later member of this name wins
            continue;
        }
        if (e.size == TarIndex::kTombstone) continue;
        out.entries_.push_back(
            {e.offset, e.size, static_cast<std::uint32_t>(out.names_.size()), e.name_length});
        out.names_.append(name_of(names, e));
    }
    out.entries_.shrink_to_fit();
    out.names_.shrink_to_fit();
    index_ = TarIndex{};
    return out;
}

}  // namespace netloom::apps
