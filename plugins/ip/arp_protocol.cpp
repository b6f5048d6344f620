// ARP on the wire (RFC 826): answering requests for our address, learning senders, sending
// requests for the cache and the gratuitous announcement.
#include "ip_layer.hpp"
#include "netloom/wire/arp.hpp"

namespace netloom::ip {

using wire::ArpOperation;

void Ipv4Layer::arp_input(std::span<const std::uint8_t> bytes) {
    const auto view = wire::ArpView::parse(bytes);
    if (!view) {
        ++counters_.arp_drop_malformed;
        return;
    }
    const auto parsed = wire::ArpRepr::parse(*view);
    if (!parsed) {
        ++counters_.arp_drop_malformed;
        return;
    }
    const wire::ArpRepr& arp = *parsed;
    // A sender is one station with one unicast address (0.0.0.0 is an RFC 5227 probe).
    if (arp.sender_mac.is_multicast() || arp.sender_ip.is_broadcast() ||
        arp.sender_ip.is_multicast()) {
        ++counters_.arp_drop_malformed;
        return;
    }
    if (arp.operation == ArpOperation::request) {
        ++counters_.arp_rx_requests;
    } else {
        ++counters_.arp_rx_replies;
    }
    const Ipv4Address ours = options_.address.address;
    if (arp.sender_ip == ours) {
        if (arp.sender_mac != mac_) ++counters_.arp_address_conflicts;
        return;  // never learn our own address from the network
    }
    const bool for_us = arp.target_ip == ours;
    if (!for_us) ++counters_.arp_rx_not_for_us;
    if (!arp.sender_ip.is_unspecified()) {
        const Time now = scheduler_.now();
        // RFC 826 "merge": refresh an entry we have; create one only when we are the target
        // (the sender is about to talk to us), and only for on-link senders, so broadcasts
        // between other hosts cannot fill the cache.
        const bool merged = arp_.update(arp.sender_ip, arp.sender_mac, now);
        if (!merged && for_us && options_.address.contains(arp.sender_ip)) {
            arp_.insert(arp.sender_ip, arp.sender_mac, now);
        }
    }
    if (for_us && arp.operation == ArpOperation::request) {
        send_arp(ArpOperation::reply, arp.sender_mac, arp.sender_mac, arp.sender_ip);
        ++counters_.arp_tx_replies;
    }
}

void Ipv4Layer::arp_request(Ipv4Address target, const MacAddress* unicast) {
    send_arp(ArpOperation::request, unicast ? *unicast : MacAddress::broadcast(), MacAddress{},
             target);
    ++counters_.arp_tx_requests;
}

void Ipv4Layer::send_arp(ArpOperation operation, const MacAddress& frame_destination,
                         const MacAddress& target_mac, Ipv4Address target_ip) {
    const wire::ArpRepr arp{operation, mac_, options_.address.address, target_mac, target_ip};
    Packet frame = Packet::allocate(wire::ArpRepr::buffer_len());
    arp.emit(frame.append(wire::ArpRepr::buffer_len()));
    send_frame(std::move(frame), frame_destination, wire::EtherType::arp);
}

}  // namespace netloom::ip
