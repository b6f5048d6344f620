// timer_heap.hpp — the timer queue shared by the scheduler plugins: a binary min-heap of small
// (deadline, sequence, slot) entries, with the callbacks kept in a slot table.
//
// Contract: timers run in (deadline, order added) order, as Scheduler::add_timer requires.
// A TimerId encodes its slot, so `cancel` is O(1) with no lookup structure: it frees the slot
// (destroying the callback at once) and leaves a 24-byte tombstone in the heap, dropped when it
// reaches the top or by a compaction once tombstones outnumber live entries.
// `run_due(now, keep_going)` runs the timers due at `now` in order, but a timer added while it runs
// waits for the next call even if already due, so a callback that re-arms itself at `now` cannot
// keep the loop in the timer phase forever. An exception from a callback propagates; the timers
// not yet run stay queued. At most 2^24 timers pending at once. Single-threaded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "netloom/scheduler.hpp"

namespace netloom::sched {

class TimerHeap {
public:
    TimerId add(Time deadline, Callback cb) {
        if (!cb) throw std::invalid_argument("add_timer: empty callback");
        // Added from inside run_due and already due: parked, so this run_due does not see it.
        const bool park = running_ && deadline <= run_cutoff_;
        std::vector<Entry>& queue = park ? parked_ : heap_;
        reserve_one_more(queue);  // everything that may throw happens before any change
        const std::uint32_t slot = take_slot();
        const Entry entry{deadline, next_seq_++, slot};
        slots_[slot] = Slot{id_of(entry), std::move(cb)};
        ++live_;
        queue.push_back(entry);
        if (!park) std::push_heap(heap_.begin(), heap_.end(), RunsLater{});
        return slots_[slot].id;
    }

    /// False when the timer already ran (or is running), was cancelled, or never existed.
    bool cancel(TimerId id) noexcept {
        const std::uint64_t slot = id & kSlotMask;
        if (id == 0 || slot >= slots_.size() || slots_[slot].id != id) return false;
        // Destroyed on return, after the bookkeeping: its captures' destructors may call back in.
        Callback doomed = release(static_cast<std::uint32_t>(slot));
        if (heap_.size() > kCompactMin && heap_.size() > 2 * live_) compact();
        return true;
    }

    /// Live timers (tombstones of cancelled ones are not counted).
    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }

    /// Deadline of the earliest live timer, or nullopt when there is none.
    std::optional<Time> next_deadline() {
        unpark();
        while (!heap_.empty() && !alive(heap_.front())) pop();
        std::optional<Time> next;
        if (!heap_.empty()) next = heap_.front().deadline;
        // Only non-empty when asked from inside run_due: parked timers are due already.
        for (const Entry& entry : parked_) {
            if (alive(entry) && (!next || entry.deadline < *next)) next = entry.deadline;
        }
        return next;
    }

    /// Runs the due timers in (deadline, order added) order and returns how many ran.
    /// `keep_going()` is asked after each callback; when false the rest wait for the next call.
    template <typename KeepGoing>
    std::size_t run_due(Time now, KeepGoing&& keep_going) {
        if (running_) throw std::logic_error("TimerHeap::run_due is not reentrant");
        unpark();
        running_ = true;
        run_cutoff_ = now;
        struct Reset {
            bool& running;
            ~Reset() { running = false; }
        } reset{running_};

        std::size_t ran = 0;
        while (!heap_.empty() && heap_.front().deadline <= now) {
            const Entry entry = pop();
            if (!alive(entry)) continue;  // cancelled
            // Out of the table before it runs: cancelling itself now returns false.
            Callback cb = release(entry.slot);
            ++ran;
            cb();
            if (!keep_going()) break;
        }
        return ran;
    }

private:
    static constexpr unsigned kSlotBits = 24;
    static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
    static constexpr std::size_t kCompactMin = 64;

    struct Entry {
        Time deadline;
        std::uint64_t seq;  // order added: breaks deadline ties
        std::uint32_t slot;
    };
    struct Slot {
        TimerId id = 0;  // 0: free
        Callback cb;
    };
    // std::*_heap build a max-heap, so "less" means "runs later".
    struct RunsLater {
        bool operator()(const Entry& a, const Entry& b) const noexcept {
            return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
        }
    };

    // Sequence in the high bits keeps ids unique (for 2^40 timers) and never 0 (seq starts at 1).
    static TimerId id_of(const Entry& e) noexcept { return (e.seq << kSlotBits) | e.slot; }
    bool alive(const Entry& e) const noexcept { return slots_[e.slot].id == id_of(e); }

    std::uint32_t take_slot() {
        if (!free_.empty()) {
            const std::uint32_t slot = free_.back();
            free_.pop_back();
            return slot;
        }
        if (slots_.size() > kSlotMask) throw std::length_error("too many pending timers");
        // free_ can hold every slot, so release() never allocates. Growing slots_ moves the
        // callbacks, which is safe: a running callback has already been moved out of its slot.
        if (free_.capacity() < slots_.size() + 1) free_.reserve(2 * slots_.size() + 16);
        slots_.emplace_back();
        return static_cast<std::uint32_t>(slots_.size() - 1);
    }
    Callback release(std::uint32_t slot) noexcept {
        Slot& s = slots_[slot];
        s.id = 0;
        free_.push_back(slot);
        --live_;
        Callback cb = std::move(s.cb);
        s.cb = nullptr;
        return cb;
    }
    Entry pop() noexcept {
        std::pop_heap(heap_.begin(), heap_.end(), RunsLater{});
        const Entry entry = heap_.back();
        heap_.pop_back();
        return entry;
    }
    void unpark() {
        if (running_ || parked_.empty()) return;
        // Geometric growth only when it is needed: reserving 2 * capacity on every unpark would
        // double the heap each time a timer re-arms itself already due (bad_alloc in ~40 turns).
        const std::size_t needed = heap_.size() + parked_.size();
        if (needed > heap_.capacity()) heap_.reserve(std::max(needed, 2 * heap_.capacity()));
        for (const Entry& entry : parked_) {
            heap_.push_back(entry);
            std::push_heap(heap_.begin(), heap_.end(), RunsLater{});
        }
        parked_.clear();
    }
    static void reserve_one_more(std::vector<Entry>& v) {
        if (v.size() == v.capacity()) v.reserve(2 * v.capacity() + 16);  // keep growth geometric
    }
    // Tombstones of timers re-armed on every ACK would otherwise pile up; no allocation here.
    void compact() noexcept {
        std::erase_if(heap_, [this](const Entry& e) { return !alive(e); });
        std::make_heap(heap_.begin(), heap_.end(), RunsLater{});
    }

    std::vector<Entry> heap_;
    std::vector<Entry> parked_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
    std::uint64_t next_seq_ = 1;
    bool running_ = false;
    Time run_cutoff_{};
};

}  // namespace netloom::sched
