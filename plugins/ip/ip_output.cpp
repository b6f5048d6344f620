// Ipv4Layer output: routing, the IPv4 header, ARP resolution (cached), fragmentation and the
// Ethernet header; also what happens to datagrams parked for ARP when it answers or gives up.
#include <cstring>

#include "fragmenter.hpp"
#include "ip_layer.hpp"
#include "netloom/wire/ethernet.hpp"

namespace netloom::ip {

using wire::EthernetView;
using wire::Ipv4View;

namespace {

constexpr std::size_t kIpv4Header = Ipv4View::kMinHeaderLength;
constexpr std::size_t kMaxPayload = 0xffff - kIpv4Header;

/// RFC 1112 6.4: 01:00:5e followed by the low 23 bits of the group address.
MacAddress multicast_mac(Ipv4Address group) {
    const auto bytes = group.bytes();
    return MacAddress{
        {0x01, 0x00, 0x5e, static_cast<std::uint8_t>(bytes[1] & 0x7f), bytes[2], bytes[3]}};
}

}  // namespace

Ipv4Layer::Route Ipv4Layer::route_to(Ipv4Address destination) const noexcept {
    Route route;
    if (is_broadcast_to_us(destination)) {
        route.ok = route.group = true;
        route.mac = MacAddress::broadcast();
    } else if (destination.is_multicast()) {
        route.ok = route.group = true;
        route.mac = multicast_mac(destination);
    } else if (destination.is_unspecified() || destination.is_loopback() ||
               destination == options_.address.address) {
        // No loopback interface: datagrams to ourselves have no route.
    } else if (options_.address.contains(destination)) {
        route.ok = true;
        route.next_hop = destination;
    } else if (options_.gateway) {
        route.ok = true;
        route.next_hop = *options_.gateway;
    }
    return route;
}

IpSendStatus Ipv4Layer::output(Ipv4Address destination, IpProtocol protocol, Packet&& payload,
                               const IpSendOptions& send_options) {
    if (!payload) return IpSendStatus::dropped;
    if (payload.size() > kMaxPayload) {
        ++counters_.ipv4_tx_too_big;
        return IpSendStatus::too_big;
    }
    const Route route = route_to(destination);
    if (!route.ok) {
        ++counters_.ipv4_tx_no_route;
        return IpSendStatus::no_route;
    }
    if (kIpv4Header + payload.size() > mtu_ && send_options.dont_fragment) {
        ++counters_.ipv4_tx_too_big;
        return IpSendStatus::too_big;
    }
    if (payload.headroom() < kIpv4Header + EthernetView::kHeaderLength) {
        payload = Packet::copy_of(payload.bytes());  // the caller broke the headroom contract
    }
    wire::Ipv4Repr header;
    header.source =
        send_options.source.is_unspecified() ? options_.address.address : send_options.source;
    header.destination = destination;
    header.protocol = protocol;
    header.payload_length = static_cast<std::uint16_t>(payload.size());
    header.ttl = send_options.ttl != 0 ? send_options.ttl : options_.ttl;
    header.dscp = send_options.dscp;
    header.ecn = send_options.ecn;
    header.identification = next_identification_++;
    header.dont_fragment = send_options.dont_fragment;
    if (!header.emit(payload.prepend(kIpv4Header), checksum_)) return IpSendStatus::dropped;
    payload.clear_flag(Packet::kChecksumVerified);
    ++counters_.ipv4_tx;

    if (route.group) return transmit_datagram(std::move(payload), route.mac);
    if (const MacAddress* mac = resolve(route.next_hop)) {
        return transmit_datagram(std::move(payload), *mac);
    }
    // Parked whole: fragmented only once it can be sent, so one datagram is one queue slot.
    switch (arp_.enqueue(route.next_hop, std::move(payload), scheduler_.now())) {
        case ArpCache::Enqueued::queued: ++counters_.ipv4_tx_queued; return IpSendStatus::queued;
        default: return IpSendStatus::dropped;
    }
}

const MacAddress* Ipv4Layer::resolve(Ipv4Address next_hop) {
    // While a received burst is processed (the ACKs and ACK-clocked data it sends), one clock
    // read serves the burst: an ARP lifetime is seconds, a burst microseconds (virtual time
    // stands still anyway), and a clock read per datagram was ~3 % of a bulk transfer's CPU.
    if (in_burst_ && !burst_now_) burst_now_ = scheduler_.now();
    const Time now = in_burst_ ? *burst_now_ : scheduler_.now();
    if (next_hop == last_hop_ && last_generation_ == arp_.generation() && now < last_valid_until_) {
        return &last_mac_;
    }
    Time valid_until;
    const MacAddress* mac = arp_.lookup(next_hop, now, valid_until);
    if (!mac) return nullptr;
    last_hop_ = next_hop;
    last_mac_ = *mac;
    last_valid_until_ = valid_until;
    last_generation_ = arp_.generation();
    return &last_mac_;
}

IpSendStatus Ipv4Layer::transmit_datagram(Packet&& datagram, const MacAddress& destination) {
    if (datagram.size() <= mtu_) {
        return send_frame(std::move(datagram), destination, wire::EtherType::ipv4)
                   ? IpSendStatus::sent
                   : IpSendStatus::dropped;
    }
    // RFC 791 3.2: fragments of at most the MTU, 8-byte aligned, each with its own header.
    Fragmenter fragmenter(datagram.bytes(), mtu_);
    if (!fragmenter.valid()) return IpSendStatus::dropped;
    ++counters_.ipv4_frag_datagrams;
    bool all_sent = true;
    while (Packet fragment = fragmenter.next(checksum_)) {
        ++counters_.ipv4_frag_tx;
        all_sent = send_frame(std::move(fragment), destination, wire::EtherType::ipv4) && all_sent;
    }
    return all_sent ? IpSendStatus::sent : IpSendStatus::dropped;
}

bool Ipv4Layer::send_frame(Packet&& payload, const MacAddress& destination, wire::EtherType type) {
    if (payload.headroom() < EthernetView::kHeaderLength) {
        payload = Packet::copy_of(payload.bytes());
    }
    const wire::EthernetRepr header{destination, mac_, type};
    header.emit(payload.prepend(EthernetView::kHeaderLength));
    ++counters_.eth_tx_frames;
    if (!device_.transmit(std::move(payload))) {
        ++counters_.eth_tx_dropped;
        return false;
    }
    return true;
}

void Ipv4Layer::arp_resolved(Ipv4Address /*target*/, const MacAddress& mac,
                             std::vector<Packet>& pending) {
    for (Packet& datagram : pending) transmit_datagram(std::move(datagram), mac);
}

void Ipv4Layer::arp_failed(Ipv4Address /*target*/, std::vector<Packet>& pending) {
    // Each parked datagram's sender learns "host unreachable", reported by ourselves
    // (RFC 1122 2.3.2.2 leaves the notification to the implementation).
    for (const Packet& datagram : pending) {
        const auto view = Ipv4View::parse(datagram.bytes());
        if (!view) continue;
        IcmpErrorReport report;
        report.type = static_cast<std::uint8_t>(wire::IcmpType::destination_unreachable);
        report.code = static_cast<std::uint8_t>(wire::IcmpUnreachable::host);
        report.reporter = options_.address.address;
        report.source = view->source();
        report.destination = view->destination();
        report.protocol = view->protocol();
        const auto transport = view->payload();
        if (transport.size() >= 4) {
            report.source_port = wire::load_be16(transport.data());
            report.destination_port = wire::load_be16(transport.data() + 2);
        }
        if (transport.size() >= 8) report.quoted_word = wire::load_be32(transport.data() + 4);
        deliver_error(report);
    }
}

}  // namespace netloom::ip
