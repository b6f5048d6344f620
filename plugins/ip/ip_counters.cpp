// The IP layer's counters by name: the field name is the reported name, so they cannot drift.
#include "ip_counters.hpp"

namespace netloom::ip {

void IpCounters::visit(const CounterVisitor& visit) const {
#define NETLOOM_IP_COUNTER(name) visit(#name, name)
    NETLOOM_IP_COUNTER(eth_rx_frames);
    NETLOOM_IP_COUNTER(eth_drop_truncated);
    NETLOOM_IP_COUNTER(eth_drop_not_for_us);
    NETLOOM_IP_COUNTER(eth_drop_unknown_ethertype);
    NETLOOM_IP_COUNTER(eth_tx_frames);
    NETLOOM_IP_COUNTER(eth_tx_dropped);
    NETLOOM_IP_COUNTER(arp_rx_requests);
    NETLOOM_IP_COUNTER(arp_rx_replies);
    NETLOOM_IP_COUNTER(arp_rx_not_for_us);
    NETLOOM_IP_COUNTER(arp_tx_requests);
    NETLOOM_IP_COUNTER(arp_tx_replies);
    NETLOOM_IP_COUNTER(arp_tx_gratuitous);
    NETLOOM_IP_COUNTER(arp_drop_malformed);
    NETLOOM_IP_COUNTER(arp_address_conflicts);
    NETLOOM_IP_COUNTER(ipv4_rx);
    NETLOOM_IP_COUNTER(ipv4_drop_truncated);
    NETLOOM_IP_COUNTER(ipv4_drop_bad_version);
    NETLOOM_IP_COUNTER(ipv4_drop_bad_header_length);
    NETLOOM_IP_COUNTER(ipv4_drop_bad_total_length);
    NETLOOM_IP_COUNTER(ipv4_drop_bad_checksum);
    NETLOOM_IP_COUNTER(ipv4_drop_not_for_us);
    NETLOOM_IP_COUNTER(ipv4_drop_bad_source);
    NETLOOM_IP_COUNTER(ipv4_drop_no_transport);
    NETLOOM_IP_COUNTER(ipv4_rx_fragments);
    NETLOOM_IP_COUNTER(ipv4_rx_delivered);
    NETLOOM_IP_COUNTER(ipv4_rx_transport);
    NETLOOM_IP_COUNTER(ipv4_tx);
    NETLOOM_IP_COUNTER(ipv4_tx_queued);
    NETLOOM_IP_COUNTER(ipv4_tx_no_route);
    NETLOOM_IP_COUNTER(ipv4_tx_too_big);
    NETLOOM_IP_COUNTER(ipv4_frag_tx);
    NETLOOM_IP_COUNTER(ipv4_frag_datagrams);
    NETLOOM_IP_COUNTER(icmp_rx);
    NETLOOM_IP_COUNTER(icmp_drop_malformed);
    NETLOOM_IP_COUNTER(icmp_drop_bad_checksum);
    NETLOOM_IP_COUNTER(icmp_drop_foreign_error);
    NETLOOM_IP_COUNTER(icmp_drop_broadcast_echo);
    NETLOOM_IP_COUNTER(icmp_rx_echo_requests);
    NETLOOM_IP_COUNTER(icmp_rx_echo_replies);
    NETLOOM_IP_COUNTER(icmp_rx_errors);
    NETLOOM_IP_COUNTER(icmp_rx_other);
    NETLOOM_IP_COUNTER(icmp_tx_echo_requests);
    NETLOOM_IP_COUNTER(icmp_tx_echo_replies);
    NETLOOM_IP_COUNTER(icmp_tx_unreachable);
    NETLOOM_IP_COUNTER(icmp_tx_time_exceeded);
    NETLOOM_IP_COUNTER(icmp_rate_limited);
    NETLOOM_IP_COUNTER(udp_rx_datagrams);
    NETLOOM_IP_COUNTER(udp_rx);
    NETLOOM_IP_COUNTER(udp_tx);
    NETLOOM_IP_COUNTER(udp_drop_malformed);
    NETLOOM_IP_COUNTER(udp_drop_bad_checksum);
    NETLOOM_IP_COUNTER(udp_drop_no_port);
    NETLOOM_IP_COUNTER(udp_drop_queue_full);
#undef NETLOOM_IP_COUNTER
}

}  // namespace netloom::ip
