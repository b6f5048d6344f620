// wire: forwarding rules, drops, queue bound, latency and rate timing, link lifetime.
#include <catch2/catch.hpp>

#include "driver_test_support.hpp"
#include "manual_scheduler.hpp"
#include "wire_link.hpp"

using namespace netloom;
using namespace netloom::testing;
using drivers::WireDevice;
using drivers::WireOptions;
using namespace std::chrono_literals;

namespace {

const MacAddress kMacA = mac_of("02:00:00:00:00:0a");
const MacAddress kMacB = mac_of("02:00:00:00:00:0b");
const MacAddress kMacC = mac_of("02:00:00:00:00:0c");

WireOptions options(const std::string& link, MacAddress mac) {
    WireOptions o;
    o.link = link;
    o.mac = mac;
    return o;
}

// A wire device attached to the scheduler, counting its rx_ready calls and collecting what it
// receives when the test drains it.
struct Port {
    std::unique_ptr<WireDevice> device;
    int notified = 0;

    Port(ManualScheduler& sched, WireOptions o)
        : device(std::make_unique<WireDevice>(std::move(o), sched)) {
        device->attach(sched, [this] { ++notified; });
    }
    std::vector<std::uint32_t> received_tags() {
        std::vector<std::uint32_t> tags;
        for (auto& p : drain(*device)) tags.push_back(tag_of(p.bytes()));
        return tags;
    }
};

}  // namespace

TEST_CASE("wire: unicast reaches only its destination, after the sender's call returns") {
    ManualScheduler sched;
    Port a(sched, options("wt-unicast", kMacA));
    Port b(sched, options("wt-unicast", kMacB));
    Port c(sched, options("wt-unicast", kMacC));

    REQUIRE(a.device->transmit(make_frame(kMacB, kMacA, 7)));
    // Contract: no rx_ready from inside transmit(); it comes on a later loop turn.
    CHECK(b.notified == 0);
    sched.run_until_idle();
    CHECK(b.notified == 1);
    CHECK(c.notified == 0);
    CHECK(b.received_tags() == std::vector<std::uint32_t>{7});
    CHECK(c.received_tags().empty());
    CHECK(a.received_tags().empty());
    CHECK(counter(*a.device, "tx_frames") == 1);
    CHECK(counter(*a.device, "tx_bytes") == 64);
    CHECK(counter(*b.device, "rx_frames") == 1);
    CHECK(counter(*b.device, "rx_bytes") == 64);
    CHECK(counter(*a.device, "tx_flooded") == 0);
}

TEST_CASE("wire: unicast moves the very buffer (zero copy)") {
    ManualScheduler sched;
    Port a(sched, options("wt-zero-copy", kMacA));
    Port b(sched, options("wt-zero-copy", kMacB));
    Packet frame = make_frame(kMacB, kMacA, 1);
    const std::uint8_t* sent_at = frame.data();
    a.device->transmit(std::move(frame));
    sched.run_until_idle();
    auto got = drain(*b.device);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data() == sent_at);
}

TEST_CASE("wire: broadcast, multicast and unknown unicast flood to every other member") {
    ManualScheduler sched;
    Port a(sched, options("wt-flood", kMacA));
    Port b(sched, options("wt-flood", kMacB));
    Port c(sched, options("wt-flood", kMacC));

    a.device->transmit(make_frame(MacAddress::broadcast(), kMacA, 1));
    a.device->transmit(make_frame(mac_of("01:00:5e:00:00:fb"), kMacA, 2));  // IPv4 multicast
    a.device->transmit(make_frame(mac_of("02:00:00:00:00:99"), kMacA, 3));  // nobody's MAC
    sched.run_until_idle();

    const std::vector<std::uint32_t> all{1, 2, 3};
    CHECK(b.received_tags() == all);
    CHECK(c.received_tags() == all);
    CHECK(a.received_tags().empty());  // never back to the sender
    CHECK(counter(*a.device, "tx_flooded") == 3);
    CHECK(counter(*a.device, "tx_frames") == 3);
    CHECK(b.notified == 1);  // three frames, one notification
}

TEST_CASE("wire: flooded copies are independent buffers with equal bytes") {
    ManualScheduler sched;
    Port a(sched, options("wt-clone", kMacA));
    Port b(sched, options("wt-clone", kMacB));
    Port c(sched, options("wt-clone", kMacC));
    a.device->transmit(make_frame(MacAddress::broadcast(), kMacA, 5, 300));
    sched.run_until_idle();
    auto at_b = drain(*b.device);
    auto at_c = drain(*c.device);
    REQUIRE(at_b.size() == 1);
    REQUIRE(at_c.size() == 1);
    CHECK(bytes_of(at_b[0]) == bytes_of(at_c[0]));
    CHECK(at_b[0].data() != at_c[0].data());
}

TEST_CASE("wire: a member alone on its link counts frames with no peer") {
    ManualScheduler sched;
    Port a(sched, options("wt-alone", kMacA));
    CHECK_FALSE(a.device->transmit(make_frame(MacAddress::broadcast(), kMacA, 1)));
    CHECK(counter(*a.device, "tx_dropped_no_peer") == 1);
    CHECK(counter(*a.device, "tx_frames") == 0);
}

TEST_CASE("wire: frames longer than mtu + 14 are dropped and counted") {
    ManualScheduler sched;
    auto oa = options("wt-mtu", kMacA);
    oa.mtu = 1000;
    Port a(sched, oa);
    auto ob = options("wt-mtu", kMacB);
    ob.mtu = 500;  // a receiver with a smaller MTU drops on its side
    Port b(sched, ob);

    CHECK_FALSE(a.device->transmit(make_frame(kMacB, kMacA, 1, 1000 + 14 + 1)));
    CHECK(counter(*a.device, "tx_dropped_too_big") == 1);
    CHECK_FALSE(a.device->transmit(make_frame(kMacB, kMacA, 2, 1000 + 14)));
    CHECK(counter(*b.device, "rx_dropped_too_big") == 1);
    CHECK(a.device->transmit(make_frame(kMacB, kMacA, 3, 500 + 14)));
    CHECK_FALSE(a.device->transmit(make_frame(kMacB, kMacA, 4, 13)));  // shorter than a header
    CHECK(counter(*a.device, "tx_dropped_runt") == 1);
    sched.run_until_idle();
    CHECK(b.received_tags() == std::vector<std::uint32_t>{3});
}

TEST_CASE("wire: a full receiver queue drops and counts at the sender") {
    ManualScheduler sched;
    auto ob = options("wt-queue", kMacB);
    ob.queue = 4;
    Port a(sched, options("wt-queue", kMacA));
    Port b(sched, ob);

    int accepted = 0;
    for (std::uint32_t i = 0; i < 6; ++i)
        accepted += a.device->transmit(make_frame(kMacB, kMacA, i));
    CHECK(accepted == 4);
    CHECK(counter(*a.device, "tx_dropped_queue_full") == 2);
    CHECK(b.device->queued() == 4);
    sched.run_until_idle();
    CHECK(b.received_tags() == std::vector<std::uint32_t>{0, 1, 2, 3});
    // Room again once polled.
    CHECK(a.device->transmit(make_frame(kMacB, kMacA, 9)));
}

TEST_CASE("wire: with latency a frame is invisible before its arrival time, visible at it") {
    ManualScheduler sched;
    auto ob = options("wt-latency", kMacB);
    ob.latency = 1ms;
    Port a(sched, options("wt-latency", kMacA));
    Port b(sched, ob);

    sched.advance(5ms);  // start from a non-zero clock
    const Time sent_at = sched.now();
    a.device->transmit(make_frame(kMacB, kMacA, 1));
    sched.run_until_idle();
    CHECK(b.notified == 0);
    CHECK(drain(*b.device).empty());
    sched.advance_to(sent_at + 1ms - 1ns);
    CHECK(b.notified == 0);
    CHECK(drain(*b.device).empty());
    sched.advance(1ns);
    CHECK(b.notified == 1);
    CHECK(b.received_tags() == std::vector<std::uint32_t>{1});
    // The other direction has no latency (it is B's setting, not the link's).
    b.device->transmit(make_frame(kMacA, kMacB, 2));
    sched.run_until_idle();
    CHECK(a.received_tags() == std::vector<std::uint32_t>{2});
}

TEST_CASE("wire: a rate serialises frames back to back, each visible when fully received") {
    ManualScheduler sched;
    auto ob = options("wt-rate", kMacB);
    ob.rate_bps = 100'000'000;  // 100 Mbit/s
    ob.latency = 10us;
    Port a(sched, options("wt-rate", kMacA));
    Port b(sched, ob);

    const std::size_t size = 1000;
    // On the wire a frame also takes preamble+SFD (8), FCS (4) and the inter-frame gap (12).
    const Time per_frame{static_cast<Time::rep>((size + 24) * 8 * 1e9 / 1e8)};
    for (std::uint32_t i = 0; i < 3; ++i) a.device->transmit(make_frame(kMacB, kMacA, i, size));

    for (std::uint32_t i = 0; i < 3; ++i) {
        const Time arrival = per_frame * (i + 1) + 10us;
        sched.advance_to(arrival - 1ns);
        CHECK(drain(*b.device).size() == 0);
        sched.advance_to(arrival);
        CHECK(b.received_tags() == std::vector<std::uint32_t>{i});
    }
    CHECK(b.notified == 3);
}

TEST_CASE("wire: frames sent before the receiver attaches are announced on attach") {
    ManualScheduler sched;
    Port a(sched, options("wt-late-attach", kMacA));
    WireDevice b(options("wt-late-attach", kMacB), sched);
    a.device->transmit(make_frame(kMacB, kMacA, 4));
    sched.run_until_idle();
    int notified = 0;
    b.attach(sched, [&] { ++notified; });
    sched.run_until_idle();
    CHECK(notified == 1);
    CHECK(drain(b).size() == 1);
}

TEST_CASE("wire: ping-pong from inside the sink keeps order and never re-enters") {
    ManualScheduler sched;
    WireDevice a(options("wt-pingpong", kMacA), sched);
    WireDevice b(options("wt-pingpong", kMacB), sched);
    constexpr std::uint32_t rounds = 1000;
    std::uint32_t expected_at_a = 1;
    int depth = 0;
    bool reentered = false;
    // Each side answers every frame with tag+1, from its sink: a stack's normal behaviour.
    auto serve = [&](WireDevice& self, MacAddress peer, std::uint32_t* expected) {
        return [&self, peer, expected, &depth, &reentered] {
            if (depth++ != 0) reentered = true;
            self.poll(64, [&](Packet&& p) {
                std::uint32_t tag = tag_of(p.bytes());
                if (expected) {
                    CHECK(tag == *expected);
                    *expected += 2;
                }
                if (tag < rounds) self.transmit(make_frame(peer, self.mac(), tag + 1));
            });
            --depth;
        };
    };
    a.attach(sched, serve(a, kMacB, &expected_at_a));
    b.attach(sched, serve(b, kMacA, nullptr));
    a.transmit(make_frame(kMacB, kMacA, 0));
    sched.run_until_idle();
    CHECK_FALSE(reentered);
    // b receives the even tags 0..rounds, a the odd ones.
    CHECK(counter(a, "rx_frames") == rounds / 2);
    CHECK(counter(b, "rx_frames") == rounds / 2 + 1);
    CHECK(expected_at_a == rounds + 1);
}

TEST_CASE("wire: a link lives as long as its last member") {
    ManualScheduler sched;
    const std::size_t before = drivers::WireLink::live_links();
    {
        WireDevice a(options("wt-lifetime", kMacA), sched);
        {
            WireDevice b(options("wt-lifetime", kMacB), sched);
            CHECK(a.link().members().size() == 2);
            CHECK(&a.link() == &b.link());
        }
        CHECK(a.link().members().size() == 1);
        CHECK(drivers::WireLink::live_links() == before + 1);
    }
    CHECK(drivers::WireLink::live_links() == before);
    WireDevice fresh(options("wt-lifetime", kMacA), sched);
    CHECK(fresh.link().members().size() == 1);
}

TEST_CASE("wire: a destroyed receiver leaves no timer behind") {
    ManualScheduler sched;
    Port a(sched, options("wt-destroy", kMacA));
    {
        auto ob = options("wt-destroy", kMacB);
        ob.latency = 1ms;
        Port b(sched, ob);
        a.device->transmit(make_frame(kMacB, kMacA, 1));
        CHECK(sched.pending_timers() == 1);
    }
    CHECK(sched.pending_timers() == 0);
    sched.advance(2ms);  // would have fired into a dead device
}
