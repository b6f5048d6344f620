// ARP cache: fixed slot table, hash index, LRU list, per-entry retry timers.
#include "arp_cache.hpp"

#include <algorithm>

namespace netloom::ip {

ArpCache::ArpCache(const ArpOptions& options, Scheduler& scheduler, Hooks& hooks)
    : options_(options), scheduler_(scheduler), hooks_(hooks), slots_(options.cache_size) {
    free_.reserve(slots_.size());
    for (std::size_t i = slots_.size(); i > 0; --i)
        free_.push_back(static_cast<std::uint32_t>(i - 1));
    index_.reserve(slots_.size());
}

ArpCache::~ArpCache() {
    for (Entry& entry : slots_) cancel(entry);
}

bool ArpCache::resolved(Ipv4Address address) const {
    const auto it = index_.find(address);
    return it != index_.end() && slots_[it->second].state != State::incomplete;
}

const MacAddress* ArpCache::lookup(Ipv4Address address, Time now, Time& reusable_until) {
    reusable_until = Time::min();
    const auto it = index_.find(address);
    if (it == index_.end()) return nullptr;
    const std::uint32_t slot = it->second;
    Entry& entry = slots_[slot];
    switch (entry.state) {
        case State::reachable:
            touch(slot);
            if (now < entry.expires) {
                reusable_until = entry.expires;
                return &entry.mac;
            }
            // Lifetime over but in use: keep sending to it while a unicast request confirms
            // it (RFC 1122 2.3.2.1), rather than stalling traffic behind a broadcast.
            entry.state = State::confirming;
            entry.requests = 1;
            ++counters_.refresh_probes;
            arm(slot, now);
            hooks_.arp_request(address, &entry.mac);
            return &entry.mac;
        case State::confirming: touch(slot); return &entry.mac;
        default: return nullptr;
    }
}

ArpCache::Enqueued ArpCache::enqueue(Ipv4Address address, Packet&& datagram, Time now) {
    if (counters_.pending_current >= options_.queue_total) {
        ++counters_.queue_drops;
        return Enqueued::queue_full;
    }
    const auto it = index_.find(address);
    std::uint32_t slot = kNone;
    bool fresh = false;
    if (it != index_.end()) {
        slot = it->second;
        // Only unresolved entries queue: for the others lookup() gives the MAC.
        if (slots_[slot].state != State::incomplete ||
            slots_[slot].pending.size() >= options_.queue) {
            ++counters_.queue_drops;
            return Enqueued::queue_full;
        }
    } else {
        slot = allocate(address);
        if (slot == kNone) {
            ++counters_.queue_drops;
            return Enqueued::no_room;
        }
        fresh = true;
    }
    Entry& entry = slots_[slot];
    entry.pending.push_back(std::move(datagram));
    ++counters_.pending_current;
    counters_.pending_peak = std::max(counters_.pending_peak, counters_.pending_current);
    if (fresh) {
        entry.state = State::incomplete;
        entry.requests = 1;
        arm(slot, now);
        hooks_.arp_request(address, nullptr);
    }
    return Enqueued::queued;
}

bool ArpCache::update(Ipv4Address address, const MacAddress& mac, Time now) {
    const auto it = index_.find(address);
    if (it == index_.end()) return false;
    refresh(it->second, mac, now);
    return true;
}

bool ArpCache::insert(Ipv4Address address, const MacAddress& mac, Time now) {
    if (update(address, mac, now)) return true;
    const std::uint32_t slot = allocate(address);
    if (slot == kNone) return false;
    Entry& entry = slots_[slot];
    entry.mac = mac;
    entry.state = State::reachable;
    entry.expires = now + options_.lifetime;
    return true;
}

void ArpCache::refresh(std::uint32_t slot, const MacAddress& mac, Time now) {
    Entry& entry = slots_[slot];
    const bool was_incomplete = entry.state == State::incomplete;
    if (!was_incomplete && entry.mac != mac) ++generation_;
    entry.mac = mac;
    entry.state = State::reachable;
    entry.expires = now + options_.lifetime;
    entry.requests = 0;
    cancel(entry);
    touch(slot);
    if (was_incomplete) {
        std::vector<Packet> pending = std::move(entry.pending);
        entry.pending.clear();
        counters_.pending_current -= pending.size();
        const Ipv4Address address = entry.address;
        hooks_.arp_resolved(address, mac, pending);
    }
}

void ArpCache::arm(std::uint32_t slot, Time now) {
    Entry& entry = slots_[slot];
    cancel(entry);
    const Ipv4Address address = entry.address;
    entry.timer = scheduler_.add_timer(now + options_.retry,
                                       [this, slot, address] { on_timer(slot, address); });
}

void ArpCache::cancel(Entry& entry) noexcept {
    if (entry.timer != 0) scheduler_.cancel_timer(entry.timer);
    entry.timer = 0;
}

void ArpCache::on_timer(std::uint32_t slot, Ipv4Address address) {
    Entry& entry = slots_[slot];
    if (entry.state == State::free || entry.address != address) return;  // slot reused since
    entry.timer = 0;
    const Time now = scheduler_.now();
    if (entry.requests < options_.retries) {
        ++entry.requests;
        arm(slot, now);
        // RFC 1122 2.3.2.1: at most one request per `retry` per address.
        hooks_.arp_request(address, entry.state == State::confirming ? &entry.mac : nullptr);
        return;
    }
    if (entry.state == State::confirming) {
        ++counters_.refresh_failures;
        remove(slot);
        return;
    }
    ++counters_.resolve_failures;
    std::vector<Packet> pending = std::move(entry.pending);
    entry.pending.clear();
    counters_.pending_current -= pending.size();
    counters_.unresolved_drops += pending.size();
    remove(slot);
    hooks_.arp_failed(address, pending);
}

std::uint32_t ArpCache::allocate(Ipv4Address address) {
    if (free_.empty()) {
        // Evict the least recently used entry that holds no datagrams.
        std::uint32_t victim = least_recent_;
        while (victim != kNone && slots_[victim].state == State::incomplete) {
            victim = slots_[victim].newer;
        }
        if (victim == kNone) return kNone;
        ++counters_.evictions;
        remove(victim);
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    Entry& entry = slots_[slot];
    entry.address = address;
    entry.mac = MacAddress{};
    entry.requests = 0;
    entry.expires = Time{0};
    entry.state = State::incomplete;
    index_.emplace(address, slot);
    touch(slot);
    ++counters_.entries_current;
    counters_.entries_peak = std::max(counters_.entries_peak, counters_.entries_current);
    return slot;
}

void ArpCache::remove(std::uint32_t slot) {
    Entry& entry = slots_[slot];
    cancel(entry);
    index_.erase(entry.address);
    unlink(slot);
    entry.pending.clear();
    entry.state = State::free;
    free_.push_back(slot);
    ++generation_;
    --counters_.entries_current;
}

void ArpCache::unlink(std::uint32_t slot) noexcept {
    Entry& entry = slots_[slot];
    if (entry.newer != kNone) {
        slots_[entry.newer].older = entry.older;
    } else if (most_recent_ == slot) {
        most_recent_ = entry.older;
    }
    if (entry.older != kNone) {
        slots_[entry.older].newer = entry.newer;
    } else if (least_recent_ == slot) {
        least_recent_ = entry.newer;
    }
    entry.newer = entry.older = kNone;
}

void ArpCache::touch(std::uint32_t slot) noexcept {
    if (most_recent_ == slot) return;
    unlink(slot);
    Entry& entry = slots_[slot];
    entry.older = most_recent_;
    if (most_recent_ != kNone) slots_[most_recent_].newer = slot;
    most_recent_ = slot;
    if (least_recent_ == kNone) least_recent_ = slot;
}

void ArpCache::visit_counters(const CounterVisitor& visit) const {
    visit("arp_cache_evictions", counters_.evictions);
    visit("arp_resolve_failures", counters_.resolve_failures);
    visit("arp_queue_drops", counters_.queue_drops);
    visit("arp_unresolved_drops", counters_.unresolved_drops);
    visit("arp_refresh_probes", counters_.refresh_probes);
    visit("arp_refresh_failures", counters_.refresh_failures);
    visit("arp_cache_entries_current", counters_.entries_current);
    visit("arp_cache_entries_peak", counters_.entries_peak);
    visit("arp_pending_current", counters_.pending_current);
    visit("arp_pending_peak", counters_.pending_peak);
}

}  // namespace netloom::ip
