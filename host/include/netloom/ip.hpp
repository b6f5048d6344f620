// ip.hpp — IpLayer: Ethernet, ARP, IPv4 (with fragmentation and bounded reassembly), ICMPv4 and
// UDP for one stack, over that stack's NetDevice (the `ip` plugin kind).
//
// Contract: single-threaded, on the scheduler's thread. Transports register by protocol number
// and receive `(IpMeta, Packet)` where the packet starts at the transport header; ownership
// moves up (the driver's own buffer for unfragmented datagrams, a new buffer flagged
// Packet::kReassembled otherwise). `output` takes a packet that starts at the transport header
// and has headroom for IPv4 + Ethernet; it fragments datagrams larger than the MTU unless
// `dont_fragment` is set. Datagrams waiting for ARP are queued (bounded); if resolution gives up
// the sending transport gets an `ip_error` with ICMP destination-unreachable/host semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "netloom/counters.hpp"
#include "netloom/packet.hpp"
#include "netloom/plugin.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/ipv4_address.hpp"

namespace netloom {

class Checksum;
using wire::IpProtocol;
using wire::Ipv4Address;
using wire::Ipv4Cidr;

struct IpMeta {
    Ipv4Address source;
    Ipv4Address destination;
    IpProtocol protocol = IpProtocol::tcp;
    std::uint8_t ttl = 0;
    std::uint8_t dscp = 0;
    std::uint8_t ecn = 0;
};

/// An ICMP error about a datagram this stack sent (RFC 1122 3.2.2), or a local resolution failure
/// (then `reporter` is our own address, type 3 code 1).
struct IcmpErrorReport {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    Ipv4Address reporter;
    Ipv4Address source;       ///< of the quoted datagram (normally ours)
    Ipv4Address destination;  ///< of the quoted datagram
    IpProtocol protocol = IpProtocol::tcp;
    std::uint16_t source_port = 0;  ///< first 4 bytes of the quoted transport header
    std::uint16_t destination_port = 0;
    std::uint32_t quoted_word = 0;   ///< quoted transport bytes 4..7 (TCP: sequence number)
    std::uint16_t next_hop_mtu = 0;  ///< RFC 1191, for fragmentation-needed
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual void ip_input(const IpMeta& meta, Packet&& segment) = 0;
    virtual void ip_error(const IcmpErrorReport& report) = 0;
};

enum class IpSendStatus {
    sent,      ///< handed to the device
    queued,    ///< waiting for ARP resolution
    no_route,  ///< no on-link route and no gateway
    too_big,   ///< larger than the MTU with dont_fragment, or over 65535
    dropped,   ///< the device or the ARP queue refused it (counted)
};
const char* to_string(IpSendStatus status) noexcept;

struct IpSendOptions {
    bool dont_fragment = false;
    std::uint8_t ttl = 0;  ///< 0: the layer's default
    std::uint8_t dscp = 0;
    std::uint8_t ecn = 0;
    Ipv4Address source;  ///< unspecified: the interface address
};

struct UdpEndpoint {
    Ipv4Address address;
    std::uint16_t port = 0;
    bool operator==(const UdpEndpoint&) const = default;
};

struct UdpDatagram {
    UdpEndpoint from;
    Ipv4Address to;
    Packet payload;  ///< starts at the UDP payload
};

/// A bound UDP port. Received datagrams wait in a bounded queue (overflow is a counted drop).
/// Destroy every socket before its IpLayer.
class UdpSocket {
public:
    virtual ~UdpSocket() = default;
    virtual std::uint16_t local_port() const noexcept = 0;
    virtual IpSendStatus send_to(const UdpEndpoint& to, std::span<const std::uint8_t> data) = 0;
    /// Non-blocking; empty when nothing is queued.
    virtual std::optional<UdpDatagram> receive() = 0;
    /// Called when a datagram is queued or an ICMP error recorded; replaces any earlier callback.
    virtual void on_readable(std::function<void()> callback) = 0;
    /// The last ICMP error for this socket (e.g. port unreachable: "connection refused"); clears
    /// it.
    virtual std::optional<IcmpErrorReport> take_error() = 0;
};

struct EchoReply {
    Ipv4Address from;
    std::uint16_t identifier = 0;
    std::uint16_t sequence = 0;
    std::span<const std::uint8_t> data;
};

class IpLayer : public PluginObject, public CounterSource {
public:
    virtual Ipv4Cidr address() const noexcept = 0;
    /// Largest datagram sent without fragmentation (the device MTU).
    virtual std::uint32_t mtu() const noexcept = 0;
    virtual const Checksum& checksum() const noexcept = 0;

    /// Attaches the device and announces the address (gratuitous ARP). Called once by the host
    /// after the whole stack is built.
    virtual void start() = 0;

    virtual void register_transport(IpProtocol protocol, Transport* transport) = 0;
    virtual IpSendStatus output(Ipv4Address destination, IpProtocol protocol, Packet&& payload,
                                const IpSendOptions& options = {}) = 0;

    /// Binds a UDP port (0: an ephemeral one). Throws std::runtime_error if it is taken.
    virtual std::unique_ptr<UdpSocket> udp_bind(std::uint16_t port) = 0;

    /// ICMP echo from this stack (ping). Replies whose identifier matches go to `on_reply`
    /// (one listener per identifier; an empty function unregisters).
    virtual IpSendStatus send_echo_request(Ipv4Address destination, std::uint16_t identifier,
                                           std::uint16_t sequence,
                                           std::span<const std::uint8_t> data) = 0;
    virtual void on_echo_reply(std::uint16_t identifier,
                               std::function<void(const EchoReply&)> on_reply) = 0;
};

}  // namespace netloom
