// wire_device.hpp — `wire`: an in-process Ethernet segment joining stacks of one process.
//
// Contract: devices configured with the same `link` name form one segment, like ports of a
// switch with a fixed MAC table: a unicast frame goes to the member owning its destination MAC,
// broadcast, multicast and unknown unicast go to every other member, nothing goes back to its
// sender. `rate`, `latency` and `queue` describe the path *into* a device (a switch's egress
// port): frames to it are serialised at its rate, become visible to `poll` `latency` after, and
// at most `queue` frames wait for it (in flight or unpolled); overflow is a counted drop at the
// sender. Frames move without copying (one clone per extra receiver of a flooded frame). All
// members of a link must run on the same scheduler thread. rx_ready is always raised from a
// scheduler timer, never from inside the sender's transmit().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::drivers {

class WireLink;

struct WireOptions {
    std::string link;
    MacAddress mac;
    std::uint32_t mtu = 1500;
    std::uint64_t rate_bps = 0;  ///< 0 = unlimited
    Time latency{0};
    std::uint32_t queue = 4096;

    /// Reads and validates the keys (calls config.done()).
    static WireOptions from_config(const Config& config, std::string_view stack_name);
};

/// "10Gbit", "2.5Gbit", "100Mbit", "64kbit", "1000000" (bits/s) or "0" -> bits per second.
std::optional<std::uint64_t> parse_bit_rate(std::string_view text);

class WireDevice final : public NetDevice {
public:
    WireDevice(WireOptions options, Scheduler& scheduler);
    ~WireDevice() override;
    WireDevice(const WireDevice&) = delete;
    WireDevice& operator=(const WireDevice&) = delete;

    std::uint32_t mtu() const noexcept override { return options_.mtu; }
    MacAddress mac() const noexcept override { return options_.mac; }
    std::string describe() const override { return "wire(" + options_.link + ")"; }
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override;
    bool transmit(Packet&& frame) override;
    std::size_t poll(std::size_t max, const FrameSink& sink) override;
    void visit_counters(const CounterVisitor& visit) const override;

    const WireOptions& options() const noexcept { return options_; }
    const WireLink& link() const noexcept { return *link_; }
    /// Frames waiting for this device (in flight or arrived, not yet polled).
    std::size_t queued() const noexcept { return ring_count_; }

private:
    struct Slot {
        Packet frame;
        Time arrival{0};
    };

    /// Receive side: takes a frame from `sender`; false (and counted) when it cannot be queued.
    bool accept(Packet&& frame, WireDevice& sender);
    Time arrival_time(std::size_t frame_bytes);
    void arm_notify(Time deadline);
    void on_notify();

    /// The 6 MAC octets in the low bytes of an integer: one compare per member on the frame
    /// path instead of a memcmp call.
    static std::uint64_t mac_key(const std::uint8_t* octets) noexcept;

    WireOptions options_;
    std::uint64_t mac_key_;
    Scheduler* scheduler_;
    std::shared_ptr<WireLink> link_;
    std::function<void()> rx_ready_;
    bool timed_;  ///< rate or latency set: arrival times matter

    std::vector<Slot> ring_;  ///< fixed capacity = options_.queue
    std::size_t ring_head_ = 0;
    std::size_t ring_count_ = 0;
    std::int64_t port_busy_until_ps_ = 0;  ///< end of the last serialised frame, picoseconds
    TimerId notify_timer_ = 0;
    Time notify_deadline_{0};

    std::uint64_t rx_frames_ = 0, rx_bytes_ = 0, tx_frames_ = 0, tx_bytes_ = 0;
    std::uint64_t tx_dropped_runt_ = 0, tx_dropped_too_big_ = 0, tx_dropped_queue_full_ = 0;
    std::uint64_t tx_dropped_no_peer_ = 0, rx_dropped_too_big_ = 0, tx_flooded_ = 0;
};

/// The factory body: reads `config`, joins the link, warns about duplicate MACs on it.
std::unique_ptr<WireDevice> make_wire_device(const Config& config, Env& env);

}  // namespace netloom::drivers
