// engine_device.hpp — the NetDevice under an engine target's stack: the script's end of the link.
//
// Contract: outbound Ethernet frames carrying IPv4 are unwrapped and their datagram (trimmed to
// its total length) is queued with the time `clock` gives, in order; ARP requests for any address
// but the stack's own are answered with a fixed MAC (the reply is delivered on a later loop turn,
// never from inside `transmit`); every other frame is counted and dropped. `inject` wraps a
// datagram in Ethernet and hands it to the stack at once (the IP layer polls inside the call).
// The queue is bounded (`kMaxQueued`; past it datagrams are counted as dropped), so a stack that
// sends forever cannot exhaust memory. Single-threaded, on the scheduler's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "netloom/netdev.hpp"
#include "target.hpp"

namespace netloom::drill {

class EngineDevice final : public NetDevice {
public:
    static constexpr std::size_t kMaxQueued = 65536;
    /// The stack's MAC and the one ARP replies give for every other address (locally
    /// administered).
    static constexpr MacAddress kStackMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
    static constexpr MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

    EngineDevice(std::uint32_t mtu, std::function<std::int64_t()> clock_us);

    std::uint32_t mtu() const noexcept override { return mtu_; }
    MacAddress mac() const noexcept override { return kStackMac; }
    std::string describe() const override { return "drill"; }
    void attach(Scheduler& scheduler, std::function<void()> rx_ready) override;
    bool transmit(Packet&& frame) override;
    std::size_t poll(std::size_t max, const FrameSink& sink) override;
    void visit_counters(const CounterVisitor& visit) const override;

    /// Called after each datagram is queued (the target stops the loop there when it waits).
    void on_datagram(std::function<void()> callback) { on_datagram_ = std::move(callback); }
    /// Delivers an IP datagram to the stack now (the stack must be started).
    void inject(std::span<const std::uint8_t> datagram);
    std::optional<CapturedPacket> pop();
    bool empty() const noexcept { return queue_.empty(); }

private:
    void answer_arp(std::span<const std::uint8_t> arp);

    std::uint32_t mtu_;
    std::function<std::int64_t()> clock_us_;
    Scheduler* scheduler_ = nullptr;
    std::function<void()> rx_ready_;
    std::function<void()> on_datagram_;
    std::deque<Packet> rx_;
    std::deque<CapturedPacket> queue_;
    bool rx_posted_ = false;
    std::uint64_t tx_datagrams_ = 0, tx_dropped_ = 0, tx_other_ = 0, arp_replies_ = 0;
    std::uint64_t rx_datagrams_ = 0;
};

}  // namespace netloom::drill
