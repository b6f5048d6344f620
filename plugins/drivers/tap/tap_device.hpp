// tap_device.hpp — `tap`: a Linux TAP interface (/dev/net/tun, IFF_TAP | IFF_NO_PI), so the
// kernel's network stack (or a namespace behind it) is the other end of netloom's link.
//
// Contract: the constructor attaches to the interface `name`, creating it when it does not exist
// (TUNSETIFF does both), sets its MTU, optionally its persistence, and brings it up; any failure
// throws std::runtime_error naming the interface and the cause (e.g. no CAP_NET_ADMIN). The fd
// is non-blocking: `poll` reads until the kernel has nothing (EAGAIN) or `max` frames;
// `transmit` writes one frame and counts a drop when the kernel refuses it. `mac` is netloom's
// own address on the segment, not the kernel interface's. attach() watches the fd for reads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::drivers {

struct TapOptions {
    std::string name;
    MacAddress mac;
    std::uint32_t mtu = 1500;
    std::optional<bool> persist;  ///< unset: leave the kernel's setting alone
    bool up = true;
    bool check_only = false;  ///< `netloom check`: validate, open nothing (see Env::check_only)

    /// Reads and validates the keys; calls config.done().
    static TapOptions from_config(const Config& config, std::string_view stack_name);
};

class TapDevice final : public NetDevice {
public:
    /// The tun/tap driver caps the MTU at 65535 minus the Ethernet header.
    static constexpr std::uint32_t kMaxMtu = 65535 - 14;

    explicit TapDevice(TapOptions options);
    ~TapDevice() override;
    TapDevice(const TapDevice&) = delete;
    TapDevice& operator=(const TapDevice&) = delete;

    std::uint32_t mtu() const noexcept override { return options_.mtu; }
    MacAddress mac() const noexcept override { return options_.mac; }
    std::string describe() const override { return "tap(" + options_.name + ")"; }
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override;
    bool transmit(Packet&& frame) override;
    std::size_t poll(std::size_t max, const FrameSink& sink) override;
    void visit_counters(const CounterVisitor& visit) const override;

    int fd() const noexcept { return fd_; }
    const std::string& name() const noexcept { return options_.name; }

private:
    [[noreturn]] void fail(const std::string& what, int error) const;
    void configure_interface();

    TapOptions options_;
    int fd_ = -1;
    Scheduler* scheduler_ = nullptr;
    WatchId watch_ = 0;
    std::function<void()> rx_ready_;
    std::size_t frame_capacity_;  ///< bytes one read may return: mtu + Ethernet + 802.1Q tag
    Packet spare_;                ///< a buffer left from a read that found nothing

    std::uint64_t rx_frames_ = 0, rx_bytes_ = 0, tx_frames_ = 0, tx_bytes_ = 0;
    std::uint64_t rx_errors_ = 0, tx_dropped_busy_ = 0, tx_dropped_error_ = 0;
    std::uint64_t tx_dropped_too_big_ = 0, tx_dropped_runt_ = 0;
};

std::unique_ptr<TapDevice> make_tap_device(const Config& config, Env& env);

}  // namespace netloom::drivers
