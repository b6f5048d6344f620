// ip_layer.hpp — Ipv4Layer, the `ipv4` plugin: Ethernet II, ARP, IPv4, ICMPv4 and UDP over one
// NetDevice, implementing netloom::IpLayer (see ip.hpp for the contract towards transports).
//
// Contract (beyond ip.hpp):
// - Receive: `start()` attaches the device; its rx_ready polls batches of max_burst frames until
//   the device is empty. Each frame goes through receive_frame(): Ethernet (our MAC or
//   broadcast), then ARP or IPv4; every refused frame is counted by reason (ip_counters.hpp).
// - Output: route (on-link, else the one gateway; broadcast and multicast need no ARP), a
//   20-byte header, then one frame, or fragments when the datagram passes the MTU. Datagrams
//   wait whole for ARP and are fragmented when sent. The last ARP answer is reused while valid,
//   so the steady path does no lookup at all.
// - Per packet: no allocation besides Packets, no logging, no std::function built.
// - ICMP errors (unreachable, time exceeded) follow RFC 1122 3.2.2: never about ICMP errors,
//   broadcasts, multicasts, non-first fragments or datagrams from non-unicast sources, and at
//   most `icmp_rate` per second (bursts of `icmp_burst`).
// - Single-threaded: everything runs on the scheduler's thread. UDP sockets must be destroyed
//   before the layer (if not, they are detached and their sends fail).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "arp_cache.hpp"
#include "ip_counters.hpp"
#include "ip_options.hpp"
#include "netloom/checksum.hpp"
#include "netloom/env.hpp"
#include "netloom/ip.hpp"
#include "netloom/netdev.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/wire/arp.hpp"
#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/icmp.hpp"
#include "netloom/wire/ipv4.hpp"
#include "reassembly.hpp"
#include "token_bucket.hpp"

namespace netloom::ip {

class UdpSocketImpl;

class Ipv4Layer final : public IpLayer, private ArpCache::Hooks {
public:
    Ipv4Layer(const IpOptions& options, NetDevice& device, Scheduler& scheduler,
              const Checksum& checksum, std::shared_ptr<spdlog::logger> log);
    ~Ipv4Layer() override;
    Ipv4Layer(const Ipv4Layer&) = delete;
    Ipv4Layer& operator=(const Ipv4Layer&) = delete;

    // IpLayer
    Ipv4Cidr address() const noexcept override { return options_.address; }
    std::uint32_t mtu() const noexcept override { return mtu_; }
    const Checksum& checksum() const noexcept override { return checksum_; }
    void start() override;
    void register_transport(IpProtocol protocol, Transport* transport) override;
    IpSendStatus output(Ipv4Address destination, IpProtocol protocol, Packet&& payload,
                        const IpSendOptions& options = {}) override;
    std::unique_ptr<UdpSocket> udp_bind(std::uint16_t port) override;
    IpSendStatus send_echo_request(Ipv4Address destination, std::uint16_t identifier,
                                   std::uint16_t sequence,
                                   std::span<const std::uint8_t> data) override;
    void on_echo_reply(std::uint16_t identifier,
                       std::function<void(const EchoReply&)> on_reply) override;
    void visit_counters(const CounterVisitor& visit) const override;

    /// One received Ethernet frame (what the device's poll feeds; public for tests).
    void receive_frame(Packet&& frame);

    // For UdpSocketImpl.
    IpSendStatus udp_send(std::uint16_t source_port, const UdpEndpoint& to,
                          std::span<const std::uint8_t> data);
    void udp_unbind(std::uint16_t port) noexcept;

    // For tests.
    const IpCounters& counters() const noexcept { return counters_; }
    const ArpCache& arp_cache() const noexcept { return arp_; }
    const Reassembler& reassembler() const noexcept { return reassembler_; }
    const IpOptions& options() const noexcept { return options_; }

private:
    /// What the receive path knows about the datagram being delivered.
    struct RxContext {
        IpMeta meta;
        std::span<const std::uint8_t> datagram;  ///< header + payload; valid until delivered
        bool link_broadcast = false;             ///< arrived in a broadcast frame
        bool ip_broadcast = false;               ///< sent to a broadcast address
        bool l4_verified = false;                ///< transport checksum already verified
    };
    struct Route {
        bool ok = false;
        bool group = false;  ///< broadcast or multicast: `mac` is set, no ARP
        Ipv4Address next_hop;
        MacAddress mac;
    };

    // receive (ip_layer.cpp)
    void poll_device();
    void ipv4_input(Packet&& packet, bool link_broadcast);
    void reassemble(Packet&& fragment, bool link_broadcast, bool ip_broadcast);
    void deliver(Packet&& packet, const wire::Ipv4View& view, bool link_broadcast,
                 bool ip_broadcast);
    void arm_reassembly_timer();
    void on_reassembly_timer();
    bool is_broadcast_to_us(Ipv4Address destination) const noexcept;
    bool is_unicast_host(Ipv4Address address) const noexcept;

    // output (ip_output.cpp)
    Route route_to(Ipv4Address destination) const noexcept;
    const MacAddress* resolve(Ipv4Address next_hop);
    IpSendStatus transmit_datagram(Packet&& datagram, const MacAddress& destination);
    bool send_frame(Packet&& payload, const MacAddress& destination, wire::EtherType type);
    void arp_resolved(Ipv4Address target, const MacAddress& mac,
                      std::vector<Packet>& pending) override;
    void arp_failed(Ipv4Address target, std::vector<Packet>& pending) override;

    // ARP (arp_protocol.cpp)
    void arp_input(std::span<const std::uint8_t> bytes);
    void arp_request(Ipv4Address target, const MacAddress* unicast) override;
    void send_arp(wire::ArpOperation operation, const MacAddress& frame_destination,
                  const MacAddress& target_mac, Ipv4Address target_ip);

    // ICMP (icmp.cpp)
    void icmp_input(const RxContext& context, Packet&& message);
    void answer_echo(const RxContext& context, Packet&& request);
    void icmp_error_received(const RxContext& context, const wire::IcmpView& message);
    bool icmp_error_allowed(std::span<const std::uint8_t> offending, bool link_broadcast) const;
    void send_icmp_error(std::span<const std::uint8_t> offending, bool link_broadcast,
                         const wire::IcmpRepr& message, std::uint64_t& sent_counter);
    /// Hands an ICMP error (received, or a local ARP give-up) to whoever owns the flow.
    void deliver_error(const IcmpErrorReport& report);

    // UDP (udp_socket.cpp)
    void udp_input(const RxContext& context, Packet&& datagram);
    std::uint16_t pick_ephemeral_port();

    IpOptions options_;
    NetDevice& device_;
    Scheduler& scheduler_;
    const Checksum& checksum_;
    std::shared_ptr<spdlog::logger> log_;
    MacAddress mac_;
    std::uint32_t mtu_;
    bool rx_checksum_verified_ = false;
    std::size_t burst_ = 64;
    bool started_ = false;
    FrameSink sink_;  ///< built once: poll() takes it by reference

    ArpCache arp_;
    Reassembler reassembler_;
    TokenBucket icmp_bucket_;
    TimerId reassembly_timer_ = 0;

    bool in_burst_ = false;          ///< inside poll_device()
    std::optional<Time> burst_now_;  ///< the clock, read once per received burst (resolve())

    // The last ARP answer, reused while the cache's generation and the entry's lifetime hold.
    Ipv4Address last_hop_;
    MacAddress last_mac_;
    Time last_valid_until_ = Time::min();
    std::uint64_t last_generation_ = 0;

    std::uint16_t next_identification_ = 0;
    std::array<Transport*, 256> transports_{};
    std::unordered_map<std::uint16_t, UdpSocketImpl*> udp_ports_;
    std::uint16_t next_ephemeral_ = 49152;
    std::unordered_map<std::uint16_t, std::function<void(const EchoReply&)>> echo_listeners_;
    IpCounters counters_;
};

/// The plugin's factory body: reads the config, takes device, scheduler and checksum from Env.
std::unique_ptr<Ipv4Layer> make_ipv4_layer(const Config& config, Env& env);

}  // namespace netloom::ip
