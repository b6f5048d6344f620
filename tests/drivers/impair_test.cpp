// impair: seeded determinism, loss statistics, each fault's effect, delay timing, rx direction.
#include <algorithm>

#include <catch2/catch.hpp>

#include "driver_test_support.hpp"
#include "manual_scheduler.hpp"

using namespace netloom;
using namespace netloom::testing;
using drivers::ImpairDevice;
using drivers::ImpairOptions;
using namespace std::chrono_literals;

namespace {

const MacAddress kDst = mac_of("02:00:00:00:00:0b");
const MacAddress kSrc = mac_of("02:00:00:00:00:0a");

struct Rig {
    ManualScheduler sched;
    std::shared_ptr<RecordingDevice> inner = std::make_shared<RecordingDevice>();
    std::unique_ptr<ImpairDevice> device;
    int notified = 0;

    explicit Rig(const ImpairOptions& options) {
        device = std::make_unique<ImpairDevice>(options, inner, sched);
        device->attach(sched, [this] { ++notified; });
    }
    void send(std::uint32_t count, std::size_t size = 100) {
        for (std::uint32_t i = 0; i < count; ++i) device->transmit(make_frame(kDst, kSrc, i, size));
    }
};

ImpairOptions mixed_faults(std::uint64_t seed) {
    ImpairOptions o;
    o.seed = seed;
    o.parameters.loss = 0.1;
    o.parameters.duplicate = 0.05;
    o.parameters.reorder = 0.05;
    o.parameters.corrupt = 0.05;
    return o;
}

std::vector<Bytes> tx_output(const ImpairOptions& options, std::uint32_t frames) {
    Rig rig(options);
    rig.send(frames);
    rig.sched.advance(1s);  // release anything held back
    return rig.inner->sent;
}

}  // namespace

TEST_CASE("impair: the same seed gives the same output, another seed another one") {
    const auto first = tx_output(mixed_faults(42), 5000);
    const auto again = tx_output(mixed_faults(42), 5000);
    const auto other = tx_output(mixed_faults(43), 5000);
    CHECK(first.size() != 5000);  // something happened
    CHECK(first == again);
    CHECK(first != other);
}

TEST_CASE("impair: the loss rate is within a statistical bound over 100k frames") {
    ImpairOptions o;
    o.seed = GENERATE(1, 2, 3);
    o.parameters.loss = 0.1;
    Rig rig(o);
    const std::uint32_t frames = 100'000;
    rig.send(frames, 60);
    const auto lost = rig.device->tx_path()->counters().lost;
    CHECK(rig.inner->sent.size() == frames - lost);
    // Binomial sigma = sqrt(0.1 * 0.9 / 1e5) ~ 0.00095: +-0.01 is more than ten sigmas.
    CHECK(static_cast<double>(lost) / frames == Approx(0.1).margin(0.01));
    CHECK(counter(*rig.device, "impair_tx_lost") == lost);
}

TEST_CASE("impair: changing one probability keeps the other faults' decisions") {
    // Every frame draws the same numbers whatever the probabilities: with loss 0 vs 0.3, the
    // frames duplicated are the same ones (the surviving subset of them).
    auto duplicated_tags = [](double loss) {
        ImpairOptions o;
        o.seed = 9;
        o.parameters.loss = loss;
        o.parameters.duplicate = 0.2;
        Rig rig(o);
        rig.send(2000);
        std::vector<std::uint32_t> tags;
        for (std::size_t i = 1; i < rig.inner->sent.size(); ++i) {
            if (rig.inner->sent[i] == rig.inner->sent[i - 1])
                tags.push_back(tag_of(rig.inner->sent[i]));
        }
        return tags;
    };
    auto without_loss = duplicated_tags(0.0);
    auto with_loss = duplicated_tags(0.3);
    REQUIRE_FALSE(with_loss.empty());
    CHECK(with_loss.size() < without_loss.size());
    CHECK(std::includes(without_loss.begin(), without_loss.end(), with_loss.begin(),
                        with_loss.end()));
}

TEST_CASE("impair: duplicate sends every frame twice, the copy identical") {
    ImpairOptions o;
    o.parameters.duplicate = 1.0;
    Rig rig(o);
    rig.send(10);
    REQUIRE(rig.inner->sent.size() == 20);
    for (std::size_t i = 0; i < 20; i += 2) {
        CHECK(rig.inner->sent[i] == rig.inner->sent[i + 1]);
        CHECK(tag_of(rig.inner->sent[i]) == i / 2);
    }
    CHECK(counter(*rig.device, "impair_tx_duplicated") == 10);
}

TEST_CASE("impair: corrupt flips exactly one bit, never in the Ethernet header") {
    ImpairOptions o;
    o.parameters.corrupt = 1.0;
    Rig rig(o);
    const std::uint32_t frames = 500;
    rig.send(frames);
    REQUIRE(rig.inner->sent.size() == frames);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const Bytes original = bytes_of(make_frame(kDst, kSrc, i, 100));
        const Bytes& got = rig.inner->sent[i];
        REQUIRE(got.size() == original.size());
        int flipped_bits = 0;
        std::size_t first_diff = got.size();
        for (std::size_t k = 0; k < got.size(); ++k) {
            flipped_bits += __builtin_popcount(got[k] ^ original[k]);
            if (got[k] != original[k] && first_diff == got.size()) first_diff = k;
        }
        CHECK(flipped_bits == 1);
        CHECK(first_diff >= 14);
    }
}

TEST_CASE("impair: reorder releases a held frame right after the next one") {
    ImpairOptions o;
    o.parameters.reorder = 1.0;
    Rig rig(o);
    rig.send(4);
    std::vector<std::uint32_t> tags;
    for (auto& f : rig.inner->sent) tags.push_back(tag_of(f));
    CHECK(tags == std::vector<std::uint32_t>{1, 0, 3, 2});
    CHECK(counter(*rig.device, "impair_tx_reordered") == 2);
}

TEST_CASE("impair: a held frame with no successor leaves after reorder_hold") {
    ImpairOptions o;
    o.parameters.reorder = 1.0;
    o.parameters.reorder_hold = 3ms;
    Rig rig(o);
    rig.send(1);
    rig.sched.advance(3ms - 1ns);
    CHECK(rig.inner->sent.empty());
    rig.sched.advance(1ns);
    CHECK(rig.inner->sent.size() == 1);
}

TEST_CASE("impair: delay and jitter hold each frame delay +- jitter, in order") {
    ImpairOptions o;
    o.seed = 5;
    o.parameters.delay = 10ms;
    o.parameters.jitter = 4ms;
    Rig rig(o);
    const std::uint32_t frames = 200;
    const Time gap = 100us;
    // Frame i is sent at i * gap. At time t, every frame sent by t - 14 ms must have left and
    // none sent after t - 6 ms may have (FIFO release keeps each within its own window).
    auto sent_by = [&](Time t) -> std::size_t {
        if (t < Time{0}) return 0;
        return std::min<std::size_t>(frames, static_cast<std::size_t>(t / gap) + 1);
    };
    for (std::uint32_t step = 0; step < 400; ++step) {
        if (step < frames) rig.device->transmit(make_frame(kDst, kSrc, step));
        const Time now = rig.sched.now();
        const std::size_t left = rig.inner->sent.size();
        CHECK(left <= sent_by(now - 6ms));
        CHECK(left >= sent_by(now - 14ms));
        rig.sched.advance(gap);
    }
    REQUIRE(rig.inner->sent.size() == frames);
    for (std::uint32_t i = 0; i < frames; ++i) CHECK(tag_of(rig.inner->sent[i]) == i);
    CHECK(counter(*rig.device, "impair_tx_delayed") == frames);
}

TEST_CASE("impair: pure delay is exact") {
    ImpairOptions o;
    o.parameters.delay = 7ms;
    Rig rig(o);
    rig.send(3);
    rig.sched.advance(7ms - 1ns);
    CHECK(rig.inner->sent.empty());
    rig.sched.advance(1ns);
    CHECK(rig.inner->sent.size() == 3);
}

TEST_CASE("impair: rx poll keeps pulling past lost frames and stops only when inner is empty") {
    ImpairOptions o;
    o.parameters.loss = 0.5;
    o.impair_tx = false;
    Rig rig(o);
    const std::uint32_t frames = 1000;
    for (std::uint32_t i = 0; i < frames; ++i) rig.inner->inject(make_frame(kDst, kSrc, i));
    std::vector<std::uint32_t> got;
    std::size_t n;
    while ((n = rig.device->poll(16, [&](Packet&& p) { got.push_back(tag_of(p.bytes())); })) != 0) {
        CHECK(n <= 16);
    }
    CHECK(rig.inner->inbox.empty());
    CHECK(got.size() == frames - rig.device->rx_path()->counters().lost);
    CHECK(std::is_sorted(got.begin(), got.end()));
    // tx is not impaired in this direction setting
    rig.device->transmit(make_frame(kDst, kSrc, 1));
    CHECK(rig.inner->sent.size() == 1);
}

TEST_CASE("impair: rx duplicates beyond the poll budget wait for the next poll") {
    ImpairOptions o;
    o.parameters.duplicate = 1.0;
    o.impair_tx = false;
    Rig rig(o);
    for (std::uint32_t i = 0; i < 5; ++i) rig.inner->inject(make_frame(kDst, kSrc, i));
    std::vector<std::uint32_t> got;
    auto sink = [&](Packet&& p) { got.push_back(tag_of(p.bytes())); };
    CHECK(rig.device->poll(3, sink) == 3);
    while (rig.device->poll(3, sink) != 0) {
    }
    CHECK(got == std::vector<std::uint32_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4});
}

TEST_CASE("impair: rx frames released by a timer are announced with rx_ready") {
    ImpairOptions o;
    o.parameters.delay = 2ms;
    o.impair_tx = false;
    Rig rig(o);
    rig.inner->inject(make_frame(kDst, kSrc, 1));
    rig.inner->notify();  // the inner device says it has frames; the stack polls
    CHECK(rig.notified == 1);
    CHECK(drain(*rig.device).empty());  // pulled into the delay line
    rig.sched.advance(2ms);
    CHECK(rig.notified == 2);
    auto got = drain(*rig.device);
    REQUIRE(got.size() == 1);
    CHECK(tag_of(got[0].bytes()) == 1);
}

TEST_CASE("impair: rx corruption withdraws the inner device's checksum guarantee") {
    ImpairOptions o;
    Rig clean(o);
    CHECK(clean.device->capabilities().rx_checksum_verified);
    o.parameters.corrupt = 0.01;
    Rig dirty(o);
    CHECK_FALSE(dirty.device->capabilities().rx_checksum_verified);
    CHECK(dirty.device->capabilities().max_burst == 32);
}

TEST_CASE("impair: a destroyed device cancels its timers") {
    ManualScheduler sched;
    auto inner = std::make_shared<RecordingDevice>();
    {
        ImpairOptions o;
        o.parameters.delay = 1ms;
        o.parameters.reorder = 1.0;
        ImpairDevice device(o, inner, sched);
        device.transmit(make_frame(kDst, kSrc, 1));
        CHECK(sched.pending_timers() == 1);
    }
    CHECK(sched.pending_timers() == 0);
    CHECK(inner->sent.empty());
}

TEST_CASE("impair: a full delay line drops and counts instead of growing") {
    ImpairOptions o;
    o.parameters.delay = 10ms;
    o.parameters.queue = 5;
    Rig rig(o);
    rig.send(8);
    std::uint64_t dropped = 0;
    rig.device->visit_counters([&](std::string_view name, std::uint64_t value) {
        if (name == "impair_tx_dropped_queue_full") dropped = value;
    });
    CHECK(dropped == 3);
    rig.sched.advance(10ms);
    CHECK(rig.inner->sent.size() == 5);
}

TEST_CASE("impair: an outage drops every frame inside its window and nothing outside it") {
    ImpairOptions o;
    o.parameters.outage_after = 10ms;
    o.parameters.outage_for = 5ms;
    Rig rig(o);
    rig.send(3);  // t = 0: before the outage
    rig.sched.advance(10ms);
    rig.send(4);  // t = 10 ms: inside
    rig.sched.advance(4ms);
    rig.send(2);  // t = 14 ms: still inside
    rig.sched.advance(1ms);
    rig.send(5);  // t = 15 ms: over
    CHECK(rig.inner->sent.size() == 8);
    CHECK(counter(*rig.device, "impair_tx_outage") == 6);
    CHECK(counter(*rig.device, "impair_tx_lost") == 0);
}

TEST_CASE("impair: an outage without an end lasts for good") {
    ImpairOptions o;
    o.parameters.outage_after = 1ms;
    Rig rig(o);
    rig.send(2);
    rig.sched.advance(1h);
    rig.send(7);
    CHECK(rig.inner->sent.size() == 2);
    CHECK(counter(*rig.device, "impair_tx_outage") == 7);
}

TEST_CASE("impair: outage_after_frames darkens both directions from the N-th frame in") {
    ImpairOptions o;
    o.parameters.outage_after_frames = 4;  // frames 1..3 pass, the 4th starts the outage
    o.parameters.outage_for = 5ms;
    Rig rig(o);
    rig.sched.advance(3ms);
    rig.send(2);                                     // tx frames 1, 2
    rig.inner->inject(make_frame(kDst, kSrc, 100));  // rx frame 3
    CHECK(drain(*rig.device).size() == 1);
    CHECK(rig.inner->sent.size() == 2);
    rig.send(1);                                     // tx frame 4: the outage begins (t = 3 ms)
    rig.inner->inject(make_frame(kDst, kSrc, 101));  // rx: dropped as well
    CHECK(drain(*rig.device).empty());
    rig.sched.advance(4ms);  // t = 7 ms: still inside
    rig.send(1);
    CHECK(rig.inner->sent.size() == 2);
    rig.sched.advance(1ms);  // t = 8 ms: over
    rig.send(3);
    rig.inner->inject(make_frame(kDst, kSrc, 102));
    CHECK(drain(*rig.device).size() == 1);
    CHECK(rig.inner->sent.size() == 5);
    CHECK(counter(*rig.device, "impair_tx_outage") == 2);
    CHECK(counter(*rig.device, "impair_rx_outage") == 1);
}
