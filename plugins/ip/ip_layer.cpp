// Ipv4Layer: construction, start, and the receive path (Ethernet -> IPv4 -> reassembly ->
// protocol dispatch). ARP, ICMP, UDP and output live in their own files.
#include "ip_layer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "netloom/wire/ethernet.hpp"
#include "udp_socket.hpp"

namespace netloom::ip {

using wire::EthernetView;
using wire::Ipv4View;
using wire::ParseError;

Ipv4Layer::Ipv4Layer(const IpOptions& options, NetDevice& device, Scheduler& scheduler,
                     const Checksum& checksum, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      device_(device),
      scheduler_(scheduler),
      checksum_(checksum),
      log_(std::move(log)),
      mac_(device.mac()),
      mtu_(device.mtu()),
      arp_(options.arp, scheduler, *this),
      reassembler_(options.reassembly, checksum),
      icmp_bucket_(options.icmp_rate, options.icmp_burst) {
    if (mtu_ < 68) {
        // RFC 791 3.2: every internet module must pass 68-byte datagrams unfragmented.
        throw std::invalid_argument("device " + device.describe() + " has an MTU of " +
                                    std::to_string(mtu_) + "; IPv4 needs at least 68");
    }
    udp_ports_.reserve(64);
    sink_ = [this](Packet&& frame) { receive_frame(std::move(frame)); };
}

Ipv4Layer::~Ipv4Layer() {
    if (reassembly_timer_ != 0) scheduler_.cancel_timer(reassembly_timer_);
    for (auto& [port, socket] : udp_ports_) socket->detach();
    if (started_) {
        // The device outlives us: leave it a callback that drains and discards, never `this`.
        NetDevice* device = &device_;
        device_.attach(scheduler_, [device] {
            static const FrameSink discard = [](Packet&&) {};
            while (device->poll(64, discard) > 0) {
            }
        });
    }
}

std::unique_ptr<Ipv4Layer> make_ipv4_layer(const Config& config, Env& env) {
    const IpOptions options = IpOptions::from_config(config);
    return std::make_unique<Ipv4Layer>(options, env.device(), env.scheduler(), env.checksum(),
                                       env.logger("ip"));
}

void Ipv4Layer::start() {
    if (started_) return;
    started_ = true;
    const DeviceCapabilities capabilities = device_.capabilities();
    rx_checksum_verified_ = capabilities.rx_checksum_verified;
    burst_ = std::max<std::size_t>(1, capabilities.max_burst);
    device_.attach(scheduler_, [this] { poll_device(); });
    log_->info("ipv4 {} on {} (mac {}, mtu {}{})", options_.address.to_string(), device_.describe(),
               mac_.to_string(), mtu_,
               options_.gateway ? ", gateway " + options_.gateway->to_string() : std::string());
    // RFC 5227 2.3 announcement: refreshes neighbours' caches that knew another MAC for us.
    send_arp(wire::ArpOperation::request, MacAddress::broadcast(), MacAddress{},
             options_.address.address);
    ++counters_.arp_tx_gratuitous;
}

void Ipv4Layer::register_transport(IpProtocol protocol, Transport* transport) {
    if (protocol == IpProtocol::icmp || protocol == IpProtocol::udp) {
        throw std::invalid_argument("ICMP and UDP are handled by the ipv4 layer itself");
    }
    transports_[static_cast<std::uint8_t>(protocol)] = transport;
}

void Ipv4Layer::poll_device() {
    in_burst_ = true;
    do {
        burst_now_.reset();  // read by the burst's first resolve(), if any
    } while (device_.poll(burst_, sink_) > 0);
    in_burst_ = false;
}

void Ipv4Layer::receive_frame(Packet&& frame) {
    ++counters_.eth_rx_frames;
    const auto ethernet = EthernetView::parse(frame.bytes());
    if (!ethernet) {
        if (ethernet.error() == ParseError::truncated) {
            ++counters_.eth_drop_truncated;
        } else {
            ++counters_.eth_drop_unknown_ethertype;  // an 802.3 length where a type should be
        }
        return;
    }
    const std::uint8_t* destination = frame.data();
    // I/G bit: a group address. We belong to no multicast group, only to broadcast.
    const bool link_broadcast = (destination[0] & 1) != 0;
    const bool for_us = link_broadcast
                            ? std::memcmp(destination, MacAddress::broadcast().bytes.data(), 6) == 0
                            : std::memcmp(destination, mac_.bytes.data(), 6) == 0;
    if (!for_us) {
        ++counters_.eth_drop_not_for_us;
        return;
    }
    switch (ethernet->ethertype()) {
        case wire::EtherType::ipv4:
            frame.pull(EthernetView::kHeaderLength);
            ipv4_input(std::move(frame), link_broadcast);
            return;
        case wire::EtherType::arp: arp_input(ethernet->payload()); return;
        default: ++counters_.eth_drop_unknown_ethertype; return;
    }
}

bool Ipv4Layer::is_broadcast_to_us(Ipv4Address destination) const noexcept {
    if (destination.is_broadcast()) return true;
    return options_.address.prefix_length <= 30 && destination == options_.address.broadcast();
}

bool Ipv4Layer::is_unicast_host(Ipv4Address address) const noexcept {
    // RFC 1122 3.2.1.3: what may appear as the source of a datagram from another host.
    return !address.is_unspecified() && !address.is_multicast() && !address.is_loopback() &&
           (address.to_uint() >> 28) != 0xf && !is_broadcast_to_us(address) &&
           address != options_.address.address;
}

void Ipv4Layer::ipv4_input(Packet&& packet, bool link_broadcast) {
    ++counters_.ipv4_rx;
    const auto parsed = Ipv4View::parse(packet.bytes());
    if (!parsed) {
        switch (parsed.error()) {
            case ParseError::truncated: ++counters_.ipv4_drop_truncated; break;
            case ParseError::bad_version: ++counters_.ipv4_drop_bad_version; break;
            case ParseError::length_beyond_buffer: ++counters_.ipv4_drop_bad_total_length; break;
            default: ++counters_.ipv4_drop_bad_header_length; break;
        }
        return;
    }
    const Ipv4View& view = *parsed;
    if (!rx_checksum_verified_ && !view.verify_checksum(checksum_)) {
        ++counters_.ipv4_drop_bad_checksum;
        return;
    }
    // No TTL check on input: RFC 1122 3.2.1.7, a host must not discard a datagram just because
    // its TTL is below 2 (TTL only limits forwarding, which this host does not do).
    const Ipv4Address destination = view.destination();
    bool ip_broadcast = false;
    if (destination != options_.address.address) {
        if (!is_broadcast_to_us(destination)) {
            ++counters_.ipv4_drop_not_for_us;
            return;
        }
        ip_broadcast = true;
    } else if (link_broadcast) {
        // RFC 1122 3.3.6: a unicast datagram in a link-layer broadcast SHOULD be discarded.
        ++counters_.ipv4_drop_not_for_us;
        return;
    }
    const Ipv4Address source = view.source();
    // RFC 1122 3.2.1.3: a broadcast or multicast source is silently discarded. 0.0.0.0 is let
    // through (a host that does not know its address yet); errors are never sent to it.
    // RFC 1122 3.2.1.3 (g): 127/8 must not appear outside a host; 240/4 is reserved; and with no
    // loopback, a datagram "from" our own address arriving on the wire is spoofed.
    if (source.is_multicast() || is_broadcast_to_us(source) || source.is_loopback() ||
        (source.to_uint() >> 28) == 0xf || source == options_.address.address) {
        ++counters_.ipv4_drop_bad_source;
        return;
    }
    packet.trim(view.total_length());  // Ethernet padding is not part of the datagram
    if (view.is_fragment()) {
        ++counters_.ipv4_rx_fragments;
        reassemble(std::move(packet), link_broadcast, ip_broadcast);
        return;
    }
    deliver(std::move(packet), view, link_broadcast, ip_broadcast);
}

void Ipv4Layer::reassemble(Packet&& fragment, bool link_broadcast, bool ip_broadcast) {
    auto result = reassembler_.feed(std::move(fragment), scheduler_.now());
    arm_reassembly_timer();
    if (result.outcome != Reassembler::Outcome::completed) return;
    const auto view = Ipv4View::parse(result.datagram.bytes());
    if (!view) return;  // cannot happen: the reassembler writes a consistent header
    deliver(std::move(result.datagram), *view, link_broadcast, ip_broadcast);
}

void Ipv4Layer::arm_reassembly_timer() {
    // Datagrams are created in deadline order, so a timer at the oldest one's deadline is
    // never late; it may be early when that datagram completed meanwhile (then it re-arms).
    if (reassembly_timer_ != 0) return;
    const auto deadline = reassembler_.next_deadline();
    if (!deadline) return;
    reassembly_timer_ = scheduler_.add_timer(*deadline, [this] { on_reassembly_timer(); });
}

void Ipv4Layer::on_reassembly_timer() {
    reassembly_timer_ = 0;
    reassembler_.expire(scheduler_.now(), [this](std::span<const std::uint8_t> first_fragment) {
        // RFC 792 / RFC 1122 3.3.2: time exceeded (reassembly), only when fragment 0 arrived.
        send_icmp_error(
            first_fragment, false,
            wire::IcmpRepr::time_exceeded(wire::IcmpTimeExceeded::reassembly, first_fragment),
            counters_.icmp_tx_time_exceeded);
    });
    arm_reassembly_timer();
}

void Ipv4Layer::deliver(Packet&& packet, const Ipv4View& view, bool link_broadcast,
                        bool ip_broadcast) {
    ++counters_.ipv4_rx_delivered;
    const bool reassembled = (packet.flags() & Packet::kReassembled) != 0;
    RxContext context;
    context.meta.source = view.source();
    context.meta.destination = view.destination();
    context.meta.protocol = view.protocol();
    context.meta.ttl = view.ttl();
    context.meta.dscp = view.dscp();
    context.meta.ecn = view.ecn();
    context.datagram = view.bytes();
    context.link_broadcast = link_broadcast;
    context.ip_broadcast = ip_broadcast;
    // A device can vouch for a frame's transport checksum, never for one rebuilt from pieces.
    context.l4_verified = !reassembled && (rx_checksum_verified_ ||
                                           (packet.flags() & Packet::kChecksumVerified) != 0);
    packet.pull(view.header_length());  // options skipped: never interpreted (RFC 1122 3.2.1.8)
    if (context.l4_verified) packet.set_flag(Packet::kChecksumVerified);

    switch (context.meta.protocol) {
        case IpProtocol::icmp: icmp_input(context, std::move(packet)); return;
        case IpProtocol::udp: udp_input(context, std::move(packet)); return;
        default: break;
    }
    if (Transport* transport = transports_[static_cast<std::uint8_t>(context.meta.protocol)]) {
        ++counters_.ipv4_rx_transport;
        transport->ip_input(context.meta, std::move(packet));
        return;
    }
    ++counters_.ipv4_drop_no_transport;
    send_icmp_error(
        context.datagram, link_broadcast,
        wire::IcmpRepr::destination_unreachable(wire::IcmpUnreachable::protocol, context.datagram),
        counters_.icmp_tx_unreachable);
}

void Ipv4Layer::visit_counters(const CounterVisitor& visit) const {
    counters_.visit(visit);
    arp_.visit_counters(visit);
    reassembler_.visit_counters(visit);
}

}  // namespace netloom::ip
