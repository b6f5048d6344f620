// ip_test_support.hpp — what the IP layer tests share: a scriptable device, an Env around it, a
// ready-made "host under test", frame builders that craft Ethernet/ARP/IPv4/ICMP/UDP bytes
// with the wire Reprs, and counter access by name.
//
// Contract: FakeDevice keeps every transmitted frame (as a Packet, so tests can look at its
// buffer) and hands out frames queued with `inject` when polled; `refuse_tx` makes transmit
// fail. IpTestEnv gives the layer the test's scheduler, a checksum and the device; its logger
// discards everything. Builders produce whole frames with valid checksums unless told otherwise.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "fast_checksum.hpp"
#include "ip_layer.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/netdev.hpp"
#include "netloom/wire/arp.hpp"
#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/icmp.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/udp.hpp"

namespace netloom::testing {

using Bytes = std::vector<std::uint8_t>;
using wire::Ipv4Address;

inline MacAddress mac(const char* text) {
    MacAddress out;
    if (!MacAddress::parse(text, out)) throw std::invalid_argument(text);
    return out;
}
inline Ipv4Address ip4(const char* text) {
    auto out = Ipv4Address::parse(text);
    if (!out) throw std::invalid_argument(text);
    return *out;
}

inline const MacAddress kOurMac = mac("02:00:00:00:00:01");
inline const MacAddress kPeerMac = mac("02:00:00:00:00:09");
inline const Ipv4Address kOurIp = ip4("10.0.0.2");
inline const Ipv4Address kPeerIp = ip4("10.0.0.9");

class FakeDevice final : public NetDevice {
public:
    explicit FakeDevice(MacAddress address = kOurMac, std::uint32_t mtu = 1500)
        : mac_(address), mtu_(mtu) {}
    std::uint32_t mtu() const noexcept override { return mtu_; }
    MacAddress mac() const noexcept override { return mac_; }
    DeviceCapabilities capabilities() const noexcept override { return {false, 8}; }
    std::string describe() const override { return "fake"; }
    void attach(Scheduler&, std::function<void()> rx_ready) override {
        rx_ready_ = std::move(rx_ready);
    }
    bool transmit(Packet&& frame) override {
        if (refuse_tx) return false;
        sent.push_back(std::move(frame));
        return true;
    }
    std::size_t poll(std::size_t max, const FrameSink& sink) override {
        std::size_t n = 0;
        for (; n < max && !inbox.empty(); ++n) {
            Packet p = std::move(inbox.front());
            inbox.pop_front();
            sink(std::move(p));
        }
        ++polls;
        return n;
    }
    void visit_counters(const CounterVisitor&) const override {}

    /// Queues frames and raises rx_ready, as a driver would.
    void deliver(Packet&& frame) {
        inbox.push_back(std::move(frame));
        if (rx_ready_) rx_ready_();
    }
    std::vector<Packet> take_sent() { return std::exchange(sent, {}); }
    bool attached() const { return static_cast<bool>(rx_ready_); }

    std::vector<Packet> sent;
    std::deque<Packet> inbox;
    std::size_t polls = 0;
    bool refuse_tx = false;

private:
    MacAddress mac_;
    std::uint32_t mtu_;
    std::function<void()> rx_ready_;
};

class IpTestEnv final : public Env {
public:
    IpTestEnv(Scheduler& scheduler, Checksum& checksum, NetDevice& device)
        : scheduler_(scheduler), checksum_(checksum), device_(device) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    Scheduler& scheduler() override { return scheduler_; }
    Checksum& checksum() override { return checksum_; }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("no nested devices in IP tests");
    }
    NetDevice& device() override { return device_; }

private:
    Scheduler& scheduler_;
    Checksum& checksum_;
    NetDevice& device_;
    std::string name_ = "test";
};

inline checksum::FastChecksum& test_checksum() {
    static checksum::FastChecksum instance;
    return instance;
}

inline std::unique_ptr<ip::Ipv4Layer> make_layer(Env& env, const std::string& yaml) {
    return ip::make_ipv4_layer(Config::load_string(yaml, "test.yaml"), env);
}

/// A layer on a FakeDevice with our addresses; started (the gratuitous ARP is cleared).
struct HostUnderTest {
    explicit HostUnderTest(const std::string& extra_yaml = "", std::uint32_t mtu = 1500,
                           const std::string& address = "10.0.0.2/24")
        : device(kOurMac, mtu), env(scheduler, test_checksum(), device) {
        layer = make_layer(env, "address: " + address + "\n" + extra_yaml);
        layer->start();
        device.take_sent();
    }
    /// Teaches the layer the peer's MAC the way the network would: an ARP request for us.
    void learn_peer(Ipv4Address peer_ip = kPeerIp, MacAddress peer_mac = kPeerMac);

    ManualScheduler scheduler;
    FakeDevice device;
    IpTestEnv env;
    std::unique_ptr<ip::Ipv4Layer> layer;
};

/// Reads one counter by name (throws when there is none of that name).
inline std::uint64_t counter(const CounterSource& source, std::string_view name) {
    std::optional<std::uint64_t> found;
    source.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) found = v;
    });
    if (!found) throw std::out_of_range("no counter " + std::string(name));
    return *found;
}

/// A transport that keeps what the layer hands it.
struct RecordingTransport final : Transport {
    struct Segment {
        IpMeta meta;
        Packet packet;
    };
    void ip_input(const IpMeta& meta, Packet&& segment) override {
        received.push_back({meta, std::move(segment)});
    }
    void ip_error(const IcmpErrorReport& report) override { errors.push_back(report); }
    std::vector<Segment> received;
    std::vector<IcmpErrorReport> errors;
};

/// A transport payload of `size` bytes with room for the headers below it.

// ---- builders --------------------------------------------------------------------------------

inline Packet ethernet_frame(const MacAddress& destination, const MacAddress& source,
                             std::uint16_t ethertype, std::span<const std::uint8_t> payload) {
    Packet frame = Packet::allocate(14 + payload.size());
    auto out = frame.append(14 + payload.size());
    std::memcpy(out.data(), destination.bytes.data(), 6);
    std::memcpy(out.data() + 6, source.bytes.data(), 6);
    wire::store_be16(out.data() + 12, ethertype);
    if (!payload.empty()) std::memcpy(out.data() + 14, payload.data(), payload.size());
    return frame;
}

inline Bytes arp_bytes(wire::ArpOperation operation, MacAddress sender_mac, Ipv4Address sender_ip,
                       MacAddress target_mac, Ipv4Address target_ip) {
    Bytes out(wire::ArpRepr::buffer_len());
    wire::ArpRepr{operation, sender_mac, sender_ip, target_mac, target_ip}.emit(out);
    return out;
}

inline Packet arp_frame(wire::ArpOperation operation, MacAddress sender_mac, Ipv4Address sender_ip,
                        Ipv4Address target_ip,
                        MacAddress frame_destination = MacAddress::broadcast(),
                        MacAddress target_mac = MacAddress{}) {
    const Bytes arp = arp_bytes(operation, sender_mac, sender_ip, target_mac, target_ip);
    return ethernet_frame(frame_destination, sender_mac, 0x0806, arp);
}

struct Ipv4Fields {
    Ipv4Address source = kPeerIp;
    Ipv4Address destination = kOurIp;
    std::uint8_t protocol = 17;
    std::uint8_t ttl = 64;
    std::uint16_t identification = 1;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0;  ///< bytes
    Bytes options;                      ///< a multiple of 4 bytes
};

/// An IPv4 datagram (header with valid checksum, then `payload`).
inline Bytes ipv4_bytes(const Ipv4Fields& f, std::span<const std::uint8_t> payload) {
    const std::size_t header = 20 + f.options.size();
    Bytes out(header + payload.size());
    out[0] = static_cast<std::uint8_t>(0x40 | (header / 4));
    wire::store_be16(&out[2], static_cast<std::uint16_t>(out.size()));
    wire::store_be16(&out[4], f.identification);
    wire::store_be16(&out[6], static_cast<std::uint16_t>((f.more_fragments ? 0x2000 : 0) |
                                                         (f.fragment_offset / 8)));
    out[8] = f.ttl;
    out[9] = f.protocol;
    f.source.write_to(&out[12]);
    f.destination.write_to(&out[16]);
    if (!f.options.empty()) std::memcpy(&out[20], f.options.data(), f.options.size());
    wire::store_be16(&out[10], test_checksum().finish({out.data(), header}));
    if (!payload.empty()) std::memcpy(out.data() + header, payload.data(), payload.size());
    return out;
}

inline Packet ipv4_frame(const Ipv4Fields& f, std::span<const std::uint8_t> payload,
                         MacAddress destination = kOurMac, MacAddress source = kPeerMac) {
    const Bytes datagram = ipv4_bytes(f, payload);
    return ethernet_frame(destination, source, 0x0800, datagram);
}

inline Bytes udp_bytes(Ipv4Address source, Ipv4Address destination, std::uint16_t source_port,
                       std::uint16_t destination_port, std::span<const std::uint8_t> payload) {
    const wire::UdpRepr repr{source_port, destination_port, payload};
    Bytes out(repr.buffer_len());
    repr.emit(out, source, destination, test_checksum());
    return out;
}

inline Bytes icmp_echo_bytes(std::uint16_t identifier, std::uint16_t sequence,
                             std::span<const std::uint8_t> data, bool request = true) {
    const auto repr = request ? wire::IcmpRepr::echo_request(identifier, sequence, data)
                              : wire::IcmpRepr::echo_reply(identifier, sequence, data);
    Bytes out(repr.buffer_len());
    repr.emit(out, test_checksum());
    return out;
}

inline Bytes pattern(std::size_t size, std::uint8_t seed = 1) {
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
    return out;
}

inline Bytes bytes_of(const Packet& p) {
    return Bytes(p.data(), p.data() + p.size());
}

/// A transport payload of `size` bytes with room for the headers below it.
inline Packet transport_payload(std::size_t size, std::uint8_t seed = 1) {
    return Packet::copy_of(pattern(size, seed));
}

inline void HostUnderTest::learn_peer(Ipv4Address peer_ip, MacAddress peer_mac) {
    device.deliver(arp_frame(wire::ArpOperation::request, peer_mac, peer_ip, kOurIp));
    device.take_sent();  // our ARP reply
}

// ---- readers of transmitted frames -----------------------------------------------------------

/// The IPv4 datagram inside a transmitted frame (throws if it is not one).
inline wire::Ipv4View ipv4_of(const Packet& frame) {
    const auto eth = wire::EthernetView::parse(frame.bytes());
    if (!eth || eth->ethertype() != wire::EtherType::ipv4) throw std::runtime_error("not IPv4");
    const auto view = wire::Ipv4View::parse(eth->payload());
    if (!view) throw std::runtime_error("bad IPv4 header in a sent frame");
    return *view;
}

inline std::optional<wire::ArpRepr> arp_of(const Packet& frame) {
    const auto eth = wire::EthernetView::parse(frame.bytes());
    if (!eth || eth->ethertype() != wire::EtherType::arp) return std::nullopt;
    const auto view = wire::ArpView::parse(eth->payload());
    if (!view) return std::nullopt;
    const auto repr = wire::ArpRepr::parse(*view);
    if (!repr) return std::nullopt;
    return *repr;
}

}  // namespace netloom::testing
