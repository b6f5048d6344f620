// ArpCache on its own, with the ManualScheduler: resolution and retries, the give-up, queue
// bounds, confirmation of expired entries, RFC 826 merge, LRU eviction, generations.
#include <catch2/catch.hpp>
#include <chrono>

#include "arp_cache.hpp"
#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using netloom::ip::ArpCache;
using namespace std::chrono_literals;

namespace {

struct RecordingHooks final : ArpCache::Hooks {
    explicit RecordingHooks(ManualScheduler& scheduler) : scheduler(scheduler) {}
    struct Request {
        Ipv4Address target;
        std::optional<MacAddress> unicast;
        Time at;
    };
    void arp_request(Ipv4Address target, const MacAddress* unicast) override {
        requests.push_back(
            {target, unicast ? std::optional(*unicast) : std::nullopt, scheduler.now()});
    }
    void arp_resolved(Ipv4Address target, const MacAddress& mac,
                      std::vector<Packet>& pending) override {
        resolved.push_back({target, mac, tags(pending)});
    }
    void arp_failed(Ipv4Address target, std::vector<Packet>& pending) override {
        failed.push_back({target, MacAddress{}, tags(pending)});
    }
    static std::vector<std::uint8_t> tags(std::vector<Packet>& pending) {
        std::vector<std::uint8_t> out;
        for (auto& p : pending) out.push_back(p.data()[0]);
        return out;
    }
    struct Outcome {
        Ipv4Address target;
        MacAddress mac;
        std::vector<std::uint8_t> tags;  ///< first byte of each parked packet, in order
    };

    ManualScheduler& scheduler;
    std::vector<Request> requests;
    std::vector<Outcome> resolved, failed;
};

Packet tagged(std::uint8_t tag) {
    return Packet::copy_of(std::vector<std::uint8_t>{tag, 0, 0});
}

ip::ArpOptions options(std::size_t size = 8, std::size_t queue = 16, std::size_t total = 256) {
    ip::ArpOptions o;
    o.cache_size = size;
    o.queue = queue;
    o.queue_total = total;
    return o;  // lifetime 60s, retry 1s, 3 requests
}

const Ipv4Address kA = ip4("10.0.0.10"), kB = ip4("10.0.0.11"), kC = ip4("10.0.0.12"),
                  kD = ip4("10.0.0.13");
const MacAddress kMacA = mac("02:00:00:00:00:0a"), kMacB = mac("02:00:00:00:00:0b");

}  // namespace

TEST_CASE("an unanswered address is asked 3 times, then its datagrams fail", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    ArpCache cache(options(), scheduler, hooks);
    Time until;

    CHECK(cache.enqueue(kA, tagged(1), 0s) == ArpCache::Enqueued::queued);
    CHECK(cache.enqueue(kA, tagged(2), 0s) == ArpCache::Enqueued::queued);
    CHECK(cache.lookup(kA, 0s, until) == nullptr);
    REQUIRE(hooks.requests.size() == 1);  // one resolution, not one per datagram
    CHECK_FALSE(hooks.requests[0].unicast);

    scheduler.advance(2500ms);
    REQUIRE(hooks.requests.size() == 3);
    CHECK(hooks.requests[1].at == 1s);
    CHECK(hooks.requests[2].at == 2s);
    CHECK(hooks.failed.empty());

    scheduler.advance(500ms);
    REQUIRE(hooks.failed.size() == 1);
    CHECK(hooks.failed[0].target == kA);
    CHECK(hooks.failed[0].tags == std::vector<std::uint8_t>{1, 2});
    CHECK(hooks.requests.size() == 3);
    CHECK(cache.counters().resolve_failures == 1);
    CHECK(cache.counters().unresolved_drops == 2);
    CHECK(cache.counters().pending_current == 0);
    CHECK(cache.size() == 0);
    CHECK(scheduler.pending_timers() == 0);  // an idle cache keeps no timer
}

TEST_CASE("an answer releases the parked datagrams in order", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    ArpCache cache(options(), scheduler, hooks);
    for (std::uint8_t tag = 1; tag <= 3; ++tag) cache.enqueue(kA, tagged(tag), 0s);
    scheduler.advance(1500ms);
    CHECK(cache.update(kA, kMacA, scheduler.now()));  // the reply merges into the entry
    REQUIRE(hooks.resolved.size() == 1);
    CHECK(hooks.resolved[0].mac == kMacA);
    CHECK(hooks.resolved[0].tags == std::vector<std::uint8_t>{1, 2, 3});
    CHECK(scheduler.pending_timers() == 0);

    Time until;
    const MacAddress* found = cache.lookup(kA, scheduler.now(), until);
    REQUIRE(found);
    CHECK(*found == kMacA);
    CHECK(until == scheduler.now() + 60s);
    scheduler.advance(10s);
    CHECK(hooks.failed.empty());
    CHECK(hooks.requests.size() == 2);
}

TEST_CASE("waiting datagrams are bounded per address and in total", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    ArpCache cache(options(8, 2, 3), scheduler, hooks);
    CHECK(cache.enqueue(kA, tagged(1), 0s) == ArpCache::Enqueued::queued);
    CHECK(cache.enqueue(kA, tagged(2), 0s) == ArpCache::Enqueued::queued);
    CHECK(cache.enqueue(kA, tagged(3), 0s) == ArpCache::Enqueued::queue_full);
    CHECK(cache.enqueue(kB, tagged(4), 0s) == ArpCache::Enqueued::queued);
    CHECK(cache.enqueue(kC, tagged(5), 0s) == ArpCache::Enqueued::queue_full);
    CHECK(cache.counters().queue_drops == 2);
    CHECK(cache.counters().pending_peak == 3);
    cache.insert(kA, kMacA, 0s);
    REQUIRE(hooks.resolved.size() == 1);
    CHECK(hooks.resolved[0].tags == std::vector<std::uint8_t>{1, 2});  // the oldest kept
}

TEST_CASE("an expired entry in use is confirmed by unicast, then dropped if silent", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    ArpCache cache(options(), scheduler, hooks);
    CHECK(cache.insert(kA, kMacA, 0s));
    Time until;
    scheduler.advance(59s);
    REQUIRE(cache.lookup(kA, scheduler.now(), until));
    CHECK(hooks.requests.empty());

    scheduler.advance(1s);
    const MacAddress* still = cache.lookup(kA, scheduler.now(), until);
    REQUIRE(still);  // traffic keeps flowing during the confirmation
    CHECK(*still == kMacA);
    CHECK(until == Time::min());
    REQUIRE(hooks.requests.size() == 1);
    REQUIRE(hooks.requests[0].unicast);
    CHECK(*hooks.requests[0].unicast == kMacA);
    CHECK(cache.counters().refresh_probes == 1);

    SECTION("an answer keeps it") {
        scheduler.advance(500ms);
        CHECK(cache.update(kA, kMacA, scheduler.now()));
        scheduler.advance(5s);
        CHECK(hooks.requests.size() == 1);
        CHECK(cache.lookup(kA, scheduler.now(), until));
        CHECK(until == 60500ms + 60s);
    }
    SECTION("silence removes it") {
        scheduler.advance(3s);
        CHECK(hooks.requests.size() == 3);
        CHECK(cache.counters().refresh_failures == 1);
        CHECK_FALSE(cache.contains(kA));
        CHECK(cache.lookup(kA, scheduler.now(), until) == nullptr);
        CHECK(hooks.failed.empty());  // nothing was waiting
    }
}

TEST_CASE("merge updates only existing entries, insert creates", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    ArpCache cache(options(), scheduler, hooks);
    CHECK_FALSE(cache.update(kA, kMacA, 0s));
    CHECK(cache.size() == 0);
    CHECK(cache.insert(kA, kMacA, 0s));
    const auto generation = cache.generation();
    CHECK(cache.update(kA, kMacA, 1s));
    CHECK(cache.generation() == generation);  // same MAC: earlier answers stay right
    CHECK(cache.update(kA, kMacB, 2s));
    CHECK(cache.generation() != generation);
    Time until;
    CHECK(*cache.lookup(kA, 2s, until) == kMacB);
}

TEST_CASE("a full cache evicts the least recently used resolved entry", "[arp]") {
    ManualScheduler scheduler;
    RecordingHooks hooks(scheduler);
    SECTION("LRU order") {
        ArpCache cache(options(3), scheduler, hooks);
        cache.insert(kA, kMacA, 0s);
        cache.insert(kB, kMacA, 0s);
        cache.insert(kC, kMacA, 0s);
        Time until;
        cache.lookup(kA, 0s, until);  // A is used: B is now the least recent
        CHECK(cache.insert(kD, kMacB, 0s));
        CHECK(cache.size() == 3);
        CHECK(cache.contains(kA));
        CHECK_FALSE(cache.contains(kB));
        CHECK(cache.counters().evictions == 1);
        CHECK(cache.counters().entries_peak == 3);
    }
    SECTION("entries holding datagrams are never evicted") {
        ArpCache cache(options(2), scheduler, hooks);
        CHECK(cache.enqueue(kA, tagged(1), 0s) == ArpCache::Enqueued::queued);
        CHECK(cache.enqueue(kB, tagged(2), 0s) == ArpCache::Enqueued::queued);
        CHECK_FALSE(cache.insert(kC, kMacA, 0s));
        CHECK(cache.enqueue(kD, tagged(3), 0s) == ArpCache::Enqueued::no_room);
        CHECK(cache.counters().evictions == 0);
        CHECK(cache.insert(kA, kMacA, 0s));  // resolving frees A for eviction
        CHECK(cache.insert(kC, kMacB, 0s));
        CHECK_FALSE(cache.contains(kA));
        CHECK(cache.contains(kB));
    }
}
