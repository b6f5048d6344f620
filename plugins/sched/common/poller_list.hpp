// poller_list.hpp — the pollers of a scheduler loop (Scheduler::add_poller), shared by the
// scheduler plugins.
//
// Contract: `run_all` calls every poller once, in the order added, and returns whether any
// reported work. A poller added during `run_all` first runs on the next call. `remove` is safe
// from any poller, including the one being removed: it only marks the entry, and `run_all` frees
// marked entries when it is done. `keep_going()` is asked after each poller; when false the rest
// wait for the next call (stop()). Single-threaded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "netloom/scheduler.hpp"

namespace netloom::sched {

class PollerList {
public:
    void add(WatchId id, std::function<bool()> poll) {
        if (!poll) throw std::invalid_argument("add_poller: empty callback");
        pollers_.push_back(std::make_unique<Poller>(Poller{id, std::move(poll)}));
    }

    void remove(WatchId id) noexcept {
        for (auto& poller : pollers_) {
            if (poller->id == id && !poller->removed) {
                poller->removed = true;
                removed_any_ = true;
                return;
            }
        }
    }

    /// Pollers not removed (a removed one is forgotten at the end of the next run_all).
    bool empty() const noexcept {
        return std::all_of(pollers_.begin(), pollers_.end(),
                           [](const std::unique_ptr<Poller>& p) { return p->removed; });
    }

    /// Runs each poller once; true when one of them found work. `calls` counts the calls made.
    template <typename KeepGoing>
    bool run_all(KeepGoing&& keep_going, std::uint64_t& calls) {
        bool busy = false;
        // pollers_ may grow (moving its unique_ptrs) while we iterate; the Poller objects stay.
        const std::size_t count = pollers_.size();
        for (std::size_t i = 0; i < count; ++i) {
            Poller& poller = *pollers_[i];
            if (poller.removed) continue;
            ++calls;
            if (poller.poll()) busy = true;
            if (!keep_going()) break;
        }
        if (removed_any_) {
            std::erase_if(pollers_, [](const std::unique_ptr<Poller>& p) { return p->removed; });
            removed_any_ = false;
        }
        return busy;
    }

private:
    struct Poller {
        WatchId id;
        std::function<bool()> poll;
        bool removed = false;
    };
    std::vector<std::unique_ptr<Poller>> pollers_;
    bool removed_any_ = false;
};

}  // namespace netloom::sched
