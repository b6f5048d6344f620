// ip_counters.hpp — the IP layer's own counters (the ARP cache and the reassembler keep theirs),
// one per drop reason, reported by name through CounterSource.
//
// Contract: every counter is always reported, zeros included. The receive side adds up:
//   eth_rx_frames = eth_drop_truncated + eth_drop_not_for_us + eth_drop_unknown_ethertype
//                 + arp_drop_malformed + arp_rx_requests + arp_rx_replies + ipv4_rx
//   ipv4_rx = ipv4_drop_truncated + ipv4_drop_bad_version + ipv4_drop_bad_header_length
//           + ipv4_drop_bad_total_length + ipv4_drop_bad_checksum + ipv4_drop_not_for_us
//           + ipv4_drop_bad_source + ipv4_rx_fragments + (ipv4_rx_delivered - reasm_ok)
//   ipv4_rx_delivered = icmp_rx + udp_rx_datagrams + ipv4_rx_transport + ipv4_drop_no_transport
//   icmp_rx = icmp_drop_malformed + icmp_drop_bad_checksum + icmp_drop_foreign_error
//           + icmp_rx_echo_requests + icmp_rx_echo_replies + icmp_rx_errors + icmp_rx_other
//   udp_rx_datagrams = udp_drop_malformed + udp_drop_bad_checksum + udp_drop_no_port
//                    + udp_drop_queue_full + udp_rx
#pragma once

#include <cstdint>

#include "netloom/counters.hpp"

namespace netloom::ip {

struct IpCounters {
    // Ethernet
    std::uint64_t eth_rx_frames = 0;
    std::uint64_t eth_drop_truncated = 0;
    std::uint64_t eth_drop_not_for_us = 0;
    std::uint64_t eth_drop_unknown_ethertype = 0;  ///< also 802.3 length-field frames
    std::uint64_t eth_tx_frames = 0;
    std::uint64_t eth_tx_dropped = 0;  ///< refused by the device
    // ARP protocol (the cache's counters are ArpCacheCounters)
    std::uint64_t arp_rx_requests = 0;
    std::uint64_t arp_rx_replies = 0;
    std::uint64_t arp_rx_not_for_us = 0;  ///< requests and replies whose target is not us
    std::uint64_t arp_tx_requests = 0;
    std::uint64_t arp_tx_replies = 0;
    std::uint64_t arp_tx_gratuitous = 0;
    std::uint64_t arp_drop_malformed = 0;
    std::uint64_t arp_address_conflicts = 0;  ///< another station claims our address
    // IPv4
    std::uint64_t ipv4_rx = 0;
    std::uint64_t ipv4_drop_truncated = 0;
    std::uint64_t ipv4_drop_bad_version = 0;
    std::uint64_t ipv4_drop_bad_header_length = 0;
    std::uint64_t ipv4_drop_bad_total_length = 0;
    std::uint64_t ipv4_drop_bad_checksum = 0;
    std::uint64_t ipv4_drop_not_for_us = 0;
    std::uint64_t ipv4_drop_bad_source = 0;
    std::uint64_t ipv4_drop_no_transport = 0;
    std::uint64_t ipv4_rx_fragments = 0;
    std::uint64_t ipv4_rx_delivered = 0;
    std::uint64_t ipv4_rx_transport = 0;  ///< handed to a registered transport
    std::uint64_t ipv4_tx = 0;
    std::uint64_t ipv4_tx_queued = 0;  ///< parked waiting for ARP
    std::uint64_t ipv4_tx_no_route = 0;
    std::uint64_t ipv4_tx_too_big = 0;
    std::uint64_t ipv4_frag_tx = 0;         ///< fragments sent
    std::uint64_t ipv4_frag_datagrams = 0;  ///< datagrams that had to be fragmented
    // ICMP
    std::uint64_t icmp_rx = 0;
    std::uint64_t icmp_drop_malformed = 0;
    std::uint64_t icmp_drop_bad_checksum = 0;
    std::uint64_t icmp_drop_foreign_error = 0;  ///< an error quoting a datagram we did not send
    std::uint64_t icmp_drop_broadcast_echo = 0;
    std::uint64_t icmp_rx_echo_requests = 0;
    std::uint64_t icmp_rx_echo_replies = 0;
    std::uint64_t icmp_rx_errors = 0;
    std::uint64_t icmp_rx_other = 0;
    std::uint64_t icmp_tx_echo_requests = 0;
    std::uint64_t icmp_tx_echo_replies = 0;
    std::uint64_t icmp_tx_unreachable = 0;
    std::uint64_t icmp_tx_time_exceeded = 0;
    std::uint64_t icmp_rate_limited = 0;
    // UDP
    std::uint64_t udp_rx_datagrams = 0;  ///< every UDP datagram that reached UDP input
    std::uint64_t udp_rx = 0;            ///< queued to a socket
    std::uint64_t udp_tx = 0;
    std::uint64_t udp_drop_malformed = 0;
    std::uint64_t udp_drop_bad_checksum = 0;
    std::uint64_t udp_drop_no_port = 0;
    std::uint64_t udp_drop_queue_full = 0;

    void visit(const CounterVisitor& visit) const;
};

}  // namespace netloom::ip
