// arp_cache.hpp — the ARP cache (RFC 826, RFC 1122 2.3.2): IPv4 -> MAC entries with a lifetime,
// datagrams waiting for a resolution, request retries and the give-up, all bounded.
//
// Contract:
// - At most `cache_size` entries. A new entry takes a free slot or evicts the least recently
//   used resolved entry; unresolved entries (they hold datagrams) are never evicted, so when
//   every slot is unresolved the new entry is refused.
// - `lookup` answers from resolved entries. An entry past its lifetime is still answered while
//   it is confirmed with unicast requests (RFC 1122 2.3.2.1 "unicast poll"); if `retries`
//   requests go unanswered the entry is removed and the next datagram resolves afresh.
// - `enqueue` parks a datagram for an unresolved address (at most `queue` per address and
//   `queue_total` overall) and starts the resolution: a broadcast request now and every `retry`
//   after it, `retries` requests in all, then the give-up: the entry is removed and its datagrams
//   are handed to Hooks::arp_failed. On resolution they go to Hooks::arp_resolved, in order.
// - `update` is RFC 826's merge (refresh an existing entry only); `insert` also creates one
//   (for a packet whose target is us).
// - Timers are scheduler timers, armed only while a resolution or confirmation is under way
//   (an idle cache arms nothing). Hooks are called last in each operation, after the cache is
//   consistent, so they may call back into the cache.
// - `generation()` changes whenever an answer given earlier may have become wrong (entry
//   removed or MAC changed): the IP layer keeps its last answer while the generation holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "netloom/counters.hpp"
#include "netloom/mac_address.hpp"
#include "netloom/packet.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/wire/ipv4_address.hpp"

namespace netloom::ip {

using wire::Ipv4Address;

struct ArpOptions {
    std::size_t cache_size = 512;
    Time lifetime = std::chrono::seconds(60);
    Time retry = std::chrono::seconds(1);
    std::uint32_t retries = 3;      ///< requests sent before giving up (or dropping an entry)
    std::size_t queue = 16;         ///< datagrams waiting per unresolved address
    std::size_t queue_total = 256;  ///< datagrams waiting over all addresses
};

struct ArpCacheCounters {
    std::uint64_t evictions = 0;         ///< resolved entries pushed out by new ones
    std::uint64_t resolve_failures = 0;  ///< addresses given up on
    std::uint64_t queue_drops = 0;       ///< datagrams refused by a full queue or cache
    std::uint64_t unresolved_drops = 0;  ///< datagrams dropped at a give-up
    std::uint64_t refresh_probes = 0;    ///< confirmations of expired entries started
    std::uint64_t refresh_failures = 0;  ///< expired entries removed, unconfirmed
    std::uint64_t entries_current = 0;
    std::uint64_t entries_peak = 0;
    std::uint64_t pending_current = 0;
    std::uint64_t pending_peak = 0;
};

class ArpCache {
public:
    class Hooks {
    public:
        /// Send a request for `target`: broadcast, or to `unicast` when confirming an entry.
        virtual void arp_request(Ipv4Address target, const MacAddress* unicast) = 0;
        virtual void arp_resolved(Ipv4Address target, const MacAddress& mac,
                                  std::vector<Packet>& pending) = 0;
        virtual void arp_failed(Ipv4Address target, std::vector<Packet>& pending) = 0;

    protected:
        ~Hooks() = default;
    };

    enum class Enqueued { queued, queue_full, no_room };

    ArpCache(const ArpOptions& options, Scheduler& scheduler, Hooks& hooks);
    ~ArpCache();
    ArpCache(const ArpCache&) = delete;
    ArpCache& operator=(const ArpCache&) = delete;

    /// The MAC for `address`, or nullptr while it is unknown or being resolved. `reusable_until`
    /// receives the time up to which the caller may reuse the answer without asking again
    /// (Time::min() when it must ask every time, e.g. during a confirmation).
    const MacAddress* lookup(Ipv4Address address, Time now, Time& reusable_until);
    Enqueued enqueue(Ipv4Address address, Packet&& datagram, Time now);
    /// RFC 826 merge: refreshes an existing entry; false when there is none.
    bool update(Ipv4Address address, const MacAddress& mac, Time now);
    /// Refreshes or creates the entry; false when the cache has no slot it may take.
    bool insert(Ipv4Address address, const MacAddress& mac, Time now);

    bool contains(Ipv4Address address) const { return index_.count(address) != 0; }
    bool resolved(Ipv4Address address) const;
    std::size_t size() const noexcept { return index_.size(); }
    std::uint64_t generation() const noexcept { return generation_; }
    const ArpCacheCounters& counters() const noexcept { return counters_; }
    /// Reports the counters as arp_<name>.
    void visit_counters(const CounterVisitor& visit) const;

private:
    enum class State : std::uint8_t { free, incomplete, reachable, confirming };
    static constexpr std::uint32_t kNone = UINT32_MAX;

    struct Entry {
        Ipv4Address address;
        MacAddress mac;
        State state = State::free;
        std::uint32_t requests = 0;  ///< sent in the current resolution or confirmation
        Time expires{0};
        TimerId timer = 0;
        std::vector<Packet> pending;
        std::uint32_t newer = kNone;  ///< LRU links (slot indices)
        std::uint32_t older = kNone;
    };

    std::uint32_t allocate(Ipv4Address address);
    void remove(std::uint32_t slot);
    void touch(std::uint32_t slot) noexcept;
    void unlink(std::uint32_t slot) noexcept;
    void arm(std::uint32_t slot, Time now);
    void cancel(Entry& entry) noexcept;
    void on_timer(std::uint32_t slot, Ipv4Address address);
    void refresh(std::uint32_t slot, const MacAddress& mac, Time now);

    ArpOptions options_;
    Scheduler& scheduler_;
    Hooks& hooks_;
    std::vector<Entry> slots_;  ///< fixed size: pointers to entries' MACs stay valid
    std::vector<std::uint32_t> free_;
    std::unordered_map<Ipv4Address, std::uint32_t> index_;
    std::uint32_t most_recent_ = kNone;
    std::uint32_t least_recent_ = kNone;
    std::uint64_t generation_ = 0;
    ArpCacheCounters counters_;
};

}  // namespace netloom::ip
