// wire: frame forwarding between the members of an in-process link, with optional serialisation
// rate, one-way latency and a bounded per-receiver queue.
#include "wire_device.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "device_identity.hpp"
#include "wire_link.hpp"

namespace netloom::drivers {
namespace {

// What a frame occupies on real Ethernet besides its header and payload (IEEE 802.3 clause 3/4):
// preamble + start delimiter (8), FCS (4) and the inter-frame gap (12); frames are padded to 60.
constexpr std::size_t kWireOverheadBytes = 8 + 4 + 12;
constexpr std::size_t kMinFrameBytes = 60;
constexpr std::uint32_t kMaxQueue = 1u << 20;

}  // namespace

std::optional<std::uint64_t> parse_bit_rate(std::string_view text) {
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end == text.data() || !(value >= 0) || !std::isfinite(value)) {
        return std::nullopt;
    }
    std::string_view unit(end, text.data() + text.size() - end);
    double scale = 0;
    if (unit.empty() || unit == "bit")
        scale = 1;
    else if (unit == "kbit" || unit == "Kbit")
        scale = 1e3;
    else if (unit == "Mbit")
        scale = 1e6;
    else if (unit == "Gbit")
        scale = 1e9;
    else if (unit == "Tbit")
        scale = 1e12;
    else
        return std::nullopt;
    double bits = value * scale;
    if (bits > 1e15) return std::nullopt;  // keeps the picosecond arithmetic below in range
    if (bits != 0 && bits < 1) return std::nullopt;
    return static_cast<std::uint64_t>(std::llround(bits));
}

WireOptions WireOptions::from_config(const Config& config, std::string_view stack_name) {
    WireOptions options;
    config.allow({"use"});  // read by the host to pick this plugin
    options.link = config.get_string("link");
    if (options.link.empty()) config.fail("link", "a non-empty link name", "\"\"");
    options.mac = read_mac(config, stack_name, "wire:" + options.link);
    options.mtu = read_mtu(config, 65535);
    std::string rate = config.get_string("rate", "0");
    auto bps = parse_bit_rate(rate);
    if (!bps) config.fail("rate", "a bit rate like 10Gbit, 100Mbit, 64kbit or 0 (unlimited)", rate);
    options.rate_bps = *bps;
    options.latency = config.get_duration("latency", Time{0});
    options.queue = static_cast<std::uint32_t>(config.get_int("queue", 4096, 1, kMaxQueue));
    config.done();
    return options;
}

std::uint64_t WireDevice::mac_key(const std::uint8_t* octets) noexcept {
    std::uint64_t key = 0;
    std::memcpy(&key, octets, 6);
    return key;
}

WireDevice::WireDevice(WireOptions options, Scheduler& scheduler)
    : options_(std::move(options)),
      mac_key_(mac_key(options_.mac.bytes.data())),
      scheduler_(&scheduler),
      timed_(options_.rate_bps != 0 || options_.latency > Time{0}),
      ring_(options_.queue) {
    link_ = WireLink::join(options_.link, this);
}

WireDevice::~WireDevice() {
    if (notify_timer_ != 0) scheduler_->cancel_timer(notify_timer_);
    link_->leave(this);
}

void WireDevice::attach(Scheduler& scheduler, std::function<void()> rx_ready) {
    if (notify_timer_ != 0) {
        scheduler_->cancel_timer(notify_timer_);
        notify_timer_ = 0;
    }
    scheduler_ = &scheduler;
    rx_ready_ = std::move(rx_ready);
    // Frames sent to us before we were attached are announced now.
    if (ring_count_ > 0) arm_notify(ring_[ring_head_].arrival);
}

bool WireDevice::transmit(Packet&& frame) {
    const std::size_t bytes = frame.size();
    if (bytes < kEthernetHeader) {
        ++tx_dropped_runt_;
        return false;
    }
    if (bytes > options_.mtu + kEthernetHeader) {
        ++tx_dropped_too_big_;
        return false;
    }
    const std::uint8_t* destination = frame.data();
    const auto& members = link_->members();

    bool delivered = false;
    WireDevice* target = nullptr;
    if ((destination[0] & 1) == 0) {  // IEEE 802 I/G bit clear: unicast
        const std::uint64_t key = mac_key(destination);
        for (WireDevice* member : members) {
            if (member->mac_key_ == key && member != this) {
                target = member;
                break;
            }
        }
    }
    if (target) {
        delivered = target->accept(std::move(frame), *this);
    } else {
        // Flood (broadcast, multicast, unknown unicast): a clone for every receiver but the
        // last, which gets the original buffer.
        WireDevice* last = nullptr;
        for (WireDevice* member : members) {
            if (member != this) last = member;
        }
        if (!last) {
            ++tx_dropped_no_peer_;
            return false;
        }
        ++tx_flooded_;
        for (WireDevice* member : members) {
            if (member == this || member == last) continue;
            delivered |= member->accept(frame.clone(frame.headroom()), *this);
        }
        delivered |= last->accept(std::move(frame), *this);
    }
    if (delivered) {
        ++tx_frames_;
        tx_bytes_ += bytes;
    }
    return delivered;
}

bool WireDevice::accept(Packet&& frame, WireDevice& sender) {
    if (ring_count_ == ring_.size()) {
        ++sender.tx_dropped_queue_full_;
        return false;
    }
    if (frame.size() > options_.mtu + kEthernetHeader) {
        ++rx_dropped_too_big_;
        return false;
    }
    const Time arrival = timed_ ? arrival_time(frame.size()) : Time{0};
    std::size_t tail = ring_head_ + ring_count_;
    if (tail >= ring_.size()) tail -= ring_.size();
    ring_[tail].frame = std::move(frame);
    ring_[tail].arrival = arrival;
    // Only the head needs a timer; later frames are found by the poll that drains it.
    if (ring_count_++ == 0 && rx_ready_) arm_notify(arrival);
    return true;
}

Time WireDevice::arrival_time(std::size_t frame_bytes) {
    const std::int64_t now_ps = scheduler_->now().count() * 1000;
    std::int64_t sent_ps = now_ps;
    if (options_.rate_bps != 0) {
        const auto bits = static_cast<std::int64_t>(
            (std::max(frame_bytes, kMinFrameBytes) + kWireOverheadBytes) * 8);
        const std::int64_t start = std::max(now_ps, port_busy_until_ps_);
        port_busy_until_ps_ =
            start + bits * 1'000'000'000'000 / static_cast<std::int64_t>(options_.rate_bps);
        sent_ps = port_busy_until_ps_;
    }
    return Time{(sent_ps + 999) / 1000} + options_.latency;
}

void WireDevice::arm_notify(Time deadline) {
    // A deadline in the past still means "a later loop turn": never inside the sender's call.
    deadline = std::max(deadline, scheduler_->now());
    if (notify_timer_ != 0) {
        if (notify_deadline_ <= deadline) return;
        scheduler_->cancel_timer(notify_timer_);
    }
    notify_deadline_ = deadline;
    notify_timer_ = scheduler_->add_timer(deadline, [this] { on_notify(); });
}

void WireDevice::on_notify() {
    notify_timer_ = 0;
    if (ring_count_ == 0 || !rx_ready_) return;
    rx_ready_();
}

std::size_t WireDevice::poll(std::size_t max, const FrameSink& sink) {
    // Untimed links: every queued frame has arrival 0 and is due; skip the clock read.
    const Time now = timed_ ? scheduler_->now() : Time{0};
    std::size_t delivered = 0;
    while (delivered < max && ring_count_ > 0) {
        Slot& slot = ring_[ring_head_];
        if (slot.arrival > now) break;
        Packet frame = std::move(slot.frame);
        if (++ring_head_ == ring_.size()) ring_head_ = 0;
        --ring_count_;
        ++delivered;
        rx_bytes_ += frame.size();
        sink(std::move(frame));  // may transmit, even to us: the loop re-reads the ring each turn
    }
    rx_frames_ += delivered;
    // Stopped at a frame still in flight: wake the stack when it lands.
    if (ring_count_ > 0 && delivered < max && rx_ready_) arm_notify(ring_[ring_head_].arrival);
    return delivered;
}

void WireDevice::visit_counters(const CounterVisitor& visit) const {
    visit("rx_frames", rx_frames_);
    visit("rx_bytes", rx_bytes_);
    visit("tx_frames", tx_frames_);
    visit("tx_bytes", tx_bytes_);
    visit("tx_flooded", tx_flooded_);
    visit("tx_dropped_runt", tx_dropped_runt_);
    visit("tx_dropped_too_big", tx_dropped_too_big_);
    visit("tx_dropped_queue_full", tx_dropped_queue_full_);
    visit("tx_dropped_no_peer", tx_dropped_no_peer_);
    visit("rx_dropped_too_big", rx_dropped_too_big_);
}

std::unique_ptr<WireDevice> make_wire_device(const Config& config, Env& env) {
    auto options = WireOptions::from_config(config, env.stack_name());
    auto device = std::make_unique<WireDevice>(std::move(options), env.scheduler());
    auto log = env.logger("driver.wire");
    for (const WireDevice* member : device->link().members()) {
        if (member != device.get() && member->mac() == device->mac()) {
            log->warn(
                "wire link '{}': MAC {} is used by two devices; unicast to it reaches only one",
                device->link().name(), device->mac().to_string());
        }
    }
    const auto& opts = device->options();
    log->debug("wire link '{}': member {} joined (mac {}, mtu {}, rate {} bit/s, latency {} ns)",
               opts.link, device->link().members().size(), opts.mac.to_string(), opts.mtu,
               opts.rate_bps, opts.latency.count());
    return device;
}

}  // namespace netloom::drivers
