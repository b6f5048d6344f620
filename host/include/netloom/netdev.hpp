// netdev.hpp — NetDevice: moves Ethernet frames between a stack and a link (the driver kind).
//
// Contract: frames are whole Ethernet II frames without FCS. `transmit` takes ownership and never
// blocks: a frame that cannot be sent now is dropped and counted (returns false). `poll` hands at
// most `max` received frames to `sink` and returns how many. After `attach`, the device calls
// `rx_ready` (on the scheduler's thread) whenever `poll` may return frames; the stack then polls
// until `poll` returns 0. Decorators (pcap, impair) wrap an inner NetDevice and are one themselves.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "netloom/counters.hpp"
#include "netloom/mac_address.hpp"
#include "netloom/packet.hpp"
#include "netloom/plugin.hpp"

namespace netloom {

class Scheduler;

struct DeviceCapabilities {
    bool rx_checksum_verified = false;  ///< received frames have valid L3/L4 checksums
    std::uint32_t max_burst = 64;       ///< frames worth polling per call
};

using FrameSink = std::function<void(Packet&& frame)>;

class NetDevice : public PluginObject, public CounterSource {
public:
    /// Largest IP datagram (Ethernet payload) the link carries, e.g. 1500.
    virtual std::uint32_t mtu() const noexcept = 0;
    virtual MacAddress mac() const noexcept = 0;
    virtual DeviceCapabilities capabilities() const noexcept { return {}; }
    /// Human-readable one-liner for logs: "tap(nl0)", "pcap(x.pcap) > wire(lan0)".
    virtual std::string describe() const = 0;

    virtual void attach(Scheduler& scheduler, std::function<void()> rx_ready) = 0;
    virtual bool transmit(Packet&& frame) = 0;
    virtual std::size_t poll(std::size_t max, const FrameSink& sink) = 0;
};

}  // namespace netloom
