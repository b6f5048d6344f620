// Ethernet and IPv4 through the layer: every malformed header counted under its own reason,
// options skipped, padding trimmed, zero-copy delivery (and the reassembled flag), and output:
// routing, TTL, identification, DF, fragmentation, broadcast and multicast, device refusal.
#include <catch2/catch.hpp>
#include <functional>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

const char* const kDropCounters[] = {
    "eth_drop_truncated",          "eth_drop_not_for_us",        "eth_drop_unknown_ethertype",
    "arp_drop_malformed",          "ipv4_drop_truncated",        "ipv4_drop_bad_version",
    "ipv4_drop_bad_header_length", "ipv4_drop_bad_total_length", "ipv4_drop_bad_checksum",
    "ipv4_drop_not_for_us",        "ipv4_drop_bad_source",       "ipv4_drop_no_transport",
    "udp_drop_malformed",          "udp_drop_bad_checksum",      "icmp_drop_malformed",
    "icmp_drop_bad_checksum",
};

Bytes valid_udp_datagram() {
    return ipv4_bytes(Ipv4Fields{}, udp_bytes(kPeerIp, kOurIp, 5555, 7, pattern(20)));
}

/// A datagram changed by `edit`, its header checksum recomputed unless `keep_checksum`.
Packet edited(const std::function<void(Bytes&)>& edit, bool keep_checksum = false) {
    Bytes datagram = valid_udp_datagram();
    edit(datagram);
    if (!keep_checksum && datagram.size() >= 20) {
        const std::size_t header = std::min<std::size_t>((datagram[0] & 0x0f) * 4, datagram.size());
        wire::store_be16(&datagram[10], 0);
        wire::store_be16(&datagram[10], test_checksum().finish({datagram.data(), header}));
    }
    return ethernet_frame(kOurMac, kPeerMac, 0x0800, datagram);
}

}  // namespace

TEST_CASE("each malformed frame is dropped and counted under its own reason", "[ip][ipv4]") {
    struct Case {
        const char* counter;
        std::function<Packet()> frame;
    };
    const std::vector<Case> cases = {
        {"eth_drop_truncated", [] { return Packet::copy_of(Bytes(10, 0xff)); }},
        {"eth_drop_unknown_ethertype",
         [] { return ethernet_frame(kOurMac, kPeerMac, 0x86dd, pattern(40)); }},
        {"eth_drop_unknown_ethertype",  // an 802.3 length field
         [] { return ethernet_frame(kOurMac, kPeerMac, 0x0040, pattern(64)); }},
        {"eth_drop_not_for_us",
         [] {
             return ethernet_frame(mac("02:00:00:00:00:77"), kPeerMac, 0x0800,
                                   valid_udp_datagram());
         }},
        {"eth_drop_not_for_us",  // a multicast group we did not join
         [] {
             return ethernet_frame(mac("01:00:5e:00:00:01"), kPeerMac, 0x0800,
                                   valid_udp_datagram());
         }},
        {"arp_drop_malformed",
         [] { return ethernet_frame(MacAddress::broadcast(), kPeerMac, 0x0806, pattern(27)); }},
        {"ipv4_drop_truncated",
         [] { return ethernet_frame(kOurMac, kPeerMac, 0x0800, pattern(19)); }},
        {"ipv4_drop_bad_version", [] { return edited([](Bytes& d) { d[0] = 0x65; }); }},
        {"ipv4_drop_bad_header_length", [] { return edited([](Bytes& d) { d[0] = 0x44; }); }},
        {"ipv4_drop_bad_header_length",  // total length shorter than the header
         [] { return edited([](Bytes& d) { wire::store_be16(&d[2], 12); }); }},
        {"ipv4_drop_bad_header_length",  // IHL 15 = 60 bytes, more than the 48-byte datagram
         [] { return edited([](Bytes& d) { d[0] = 0x4f; }); }},
        {"ipv4_drop_bad_total_length",
         [] { return edited([](Bytes& d) { wire::store_be16(&d[2], 200); }); }},
        {"ipv4_drop_bad_checksum", [] { return edited([](Bytes& d) { d[8] = 1; }, true); }},
        {"ipv4_drop_not_for_us",
         [] { return edited([](Bytes& d) { ip4("10.0.0.3").write_to(&d[16]); }); }},
        {"ipv4_drop_bad_source",
         [] { return edited([](Bytes& d) { ip4("224.0.0.5").write_to(&d[12]); }); }},
        {"ipv4_drop_bad_source",
         [] { return edited([](Bytes& d) { ip4("10.0.0.255").write_to(&d[12]); }); }},
        {"ipv4_drop_bad_source",  // RFC 1122 3.2.1.3 (g): loopback never appears on a wire
         [] { return edited([](Bytes& d) { ip4("127.0.0.1").write_to(&d[12]); }); }},
        {"ipv4_drop_bad_source",  // class E, reserved
         [] { return edited([](Bytes& d) { ip4("240.0.0.1").write_to(&d[12]); }); }},
        {"ipv4_drop_bad_source",  // our own address: we have no loopback, so it is spoofed
         [] { return edited([](Bytes& d) { kOurIp.write_to(&d[12]); }); }},
        {"ipv4_drop_not_for_us",  // RFC 1122 3.3.6: unicast IP inside a link-layer broadcast
         [] {
             return ethernet_frame(MacAddress::broadcast(), kPeerMac, 0x0800, valid_udp_datagram());
         }},
        {"udp_drop_malformed",
         [] { return edited([](Bytes& d) { wire::store_be16(&d[24], 3); }); }},
        {"udp_drop_bad_checksum", [] { return edited([](Bytes& d) { d[40] ^= 1; }); }},
        {"icmp_drop_malformed",
         [] {
             Ipv4Fields f;
             f.protocol = 1;
             return ipv4_frame(f, pattern(4));
         }},
        {"icmp_drop_bad_checksum",
         [] {
             Ipv4Fields f;
             f.protocol = 1;
             Bytes echo = icmp_echo_bytes(1, 1, pattern(8));
             echo[9] ^= 0x40;
             return ipv4_frame(f, echo);
         }},
    };
    for (const Case& c : cases) {
        INFO(c.counter);
        HostUnderTest host;
        auto socket = host.layer->udp_bind(7);
        host.device.deliver(c.frame());
        std::uint64_t drops = 0;
        for (const char* name : kDropCounters) drops += counter(*host.layer, name);
        CHECK(counter(*host.layer, c.counter) == 1);
        CHECK(drops == 1);  // counted once, under one reason
        CHECK(counter(*host.layer, "eth_rx_frames") == 1);
        CHECK(host.device.sent.empty());
        CHECK_FALSE(socket->receive());
    }
}

TEST_CASE("a TTL of 0 or 1 is not a reason for a host to drop (RFC 1122 3.2.1.7)", "[ip][ipv4]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(7);
    for (std::uint8_t ttl : {0, 1}) {
        Ipv4Fields f;
        f.ttl = ttl;
        host.device.deliver(ipv4_frame(f, udp_bytes(kPeerIp, kOurIp, 5555, 7, pattern(8))));
        CHECK(socket->receive());
    }
}

TEST_CASE("options are skipped, padding trimmed, delivery is zero-copy", "[ip][ipv4]") {
    HostUnderTest host;
    RecordingTransport transport;
    host.layer->register_transport(IpProtocol{253}, &transport);
    Ipv4Fields f;
    f.protocol = 253;
    f.ttl = 33;
    f.options = {0x01, 0x01, 0x01, 0x00};
    Packet frame = ipv4_frame(f, pattern(10));
    const std::size_t unpadded = frame.size();
    auto padding = frame.append(60 - unpadded);  // Ethernet minimum frame
    std::fill(padding.begin(), padding.end(), 0xee);
    const std::uint8_t* buffer = frame.data();
    host.device.deliver(std::move(frame));

    REQUIRE(transport.received.size() == 1);
    const auto& segment = transport.received[0];
    CHECK(segment.packet.data() == buffer + 14 + 24);  // the driver's buffer, headers pulled
    CHECK(bytes_of(segment.packet) == pattern(10));
    CHECK((segment.packet.flags() & Packet::kReassembled) == 0);
    CHECK(segment.meta.source == kPeerIp);
    CHECK(segment.meta.destination == kOurIp);
    CHECK(segment.meta.protocol == IpProtocol{253});
    CHECK(segment.meta.ttl == 33);
    CHECK(counter(*host.layer, "ipv4_rx_transport") == 1);

    SECTION("a fragmented one arrives in a new buffer flagged reassembled") {
        const Bytes payload = pattern(40, 6);
        f.options.clear();
        f.identification = 9;
        f.more_fragments = true;
        host.device.deliver(ipv4_frame(f, std::span<const std::uint8_t>(payload).first(16)));
        f.more_fragments = false;
        f.fragment_offset = 16;
        host.device.deliver(ipv4_frame(f, std::span<const std::uint8_t>(payload).subspan(16)));
        REQUIRE(transport.received.size() == 2);
        CHECK((transport.received[1].packet.flags() & Packet::kReassembled) != 0);
        CHECK(bytes_of(transport.received[1].packet) == payload);
    }
}

TEST_CASE("output builds the header: TTL, identification, DF", "[ip][ipv4][output]") {
    HostUnderTest host("ttl: 9\n");
    host.learn_peer();
    CHECK(host.layer->output(kPeerIp, IpProtocol{253}, transport_payload(10)) ==
          IpSendStatus::sent);
    IpSendOptions options;
    options.ttl = 3;
    options.dont_fragment = true;
    options.dscp = 46;
    CHECK(host.layer->output(kPeerIp, IpProtocol{253}, transport_payload(10), options) ==
          IpSendStatus::sent);
    REQUIRE(host.device.sent.size() == 2);
    const auto first = ipv4_of(host.device.sent[0]);
    const auto second = ipv4_of(host.device.sent[1]);
    CHECK(first.ttl() == 9);
    CHECK(second.ttl() == 3);
    CHECK_FALSE(first.dont_fragment());
    CHECK(second.dont_fragment());
    CHECK(second.dscp() == 46);
    CHECK(second.identification() == static_cast<std::uint16_t>(first.identification() + 1));
    CHECK(first.verify_checksum(test_checksum()));
    CHECK(first.protocol() == IpProtocol{253});
    CHECK(bytes_of(host.device.sent[0]).size() == 14 + 20 + 10);
    CHECK(counter(*host.layer, "ipv4_tx") == 2);

    CHECK(host.layer->output(kPeerIp, IpProtocol{253}, transport_payload(1481), options) ==
          IpSendStatus::too_big);
    Packet huge = Packet::allocate(65516);
    huge.append(65516);
    CHECK(host.layer->output(kPeerIp, IpProtocol{253}, std::move(huge)) == IpSendStatus::too_big);
}

TEST_CASE("output fragments what passes the MTU", "[ip][ipv4][output]") {
    HostUnderTest host("", 576);
    host.learn_peer();
    const Bytes data = pattern(2000, 4);
    CHECK(host.layer->output(kPeerIp, IpProtocol{253}, Packet::copy_of(data)) ==
          IpSendStatus::sent);
    REQUIRE(host.device.sent.size() == 4);  // 552 + 552 + 552 + 344
    Bytes rebuilt;
    for (const Packet& frame : host.device.sent) {
        CHECK(frame.size() <= 576 + 14);
        const auto ip = ipv4_of(frame);
        CHECK(ip.verify_checksum(test_checksum()));
        CHECK(ip.fragment_offset() == rebuilt.size());
        rebuilt.insert(rebuilt.end(), ip.payload().begin(), ip.payload().end());
    }
    CHECK(rebuilt == data);
    CHECK(counter(*host.layer, "ipv4_frag_tx") == 4);
    CHECK(counter(*host.layer, "ipv4_frag_datagrams") == 1);
}

TEST_CASE("routing: on-link, gateway, broadcast, multicast, nowhere", "[ip][ipv4][output]") {
    SECTION("without a gateway, off-link has no route") {
        HostUnderTest host;
        CHECK(host.layer->output(ip4("8.8.8.8"), IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::no_route);
        CHECK(host.layer->output(kOurIp, IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::no_route);
        CHECK(counter(*host.layer, "ipv4_tx_no_route") == 2);
        CHECK(host.device.sent.empty());
    }
    SECTION("off-link goes through the gateway's MAC") {
        HostUnderTest host("gateway: 10.0.0.1\n");
        CHECK(host.layer->output(ip4("8.8.8.8"), IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::queued);
        REQUIRE(host.device.sent.size() == 1);
        CHECK(arp_of(host.device.sent[0])->target_ip == ip4("10.0.0.1"));
        host.device.take_sent();
        const MacAddress router = mac("02:00:00:00:00:fe");
        host.device.deliver(arp_frame(wire::ArpOperation::reply, router, ip4("10.0.0.1"), kOurIp,
                                      kOurMac, kOurMac));
        REQUIRE(host.device.sent.size() == 1);
        CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() == router);
        CHECK(ipv4_of(host.device.sent[0]).destination() == ip4("8.8.8.8"));
    }
    SECTION("broadcast and multicast need no ARP") {
        HostUnderTest host;
        CHECK(host.layer->output(Ipv4Address::broadcast(), IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::sent);
        CHECK(host.layer->output(ip4("10.0.0.255"), IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::sent);
        CHECK(host.layer->output(ip4("224.0.0.251"), IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::sent);
        REQUIRE(host.device.sent.size() == 3);
        const auto to = [&](std::size_t i) {
            return wire::EthernetView::parse(host.device.sent[i].bytes())->destination();
        };
        CHECK(to(0) == MacAddress::broadcast());
        CHECK(to(1) == MacAddress::broadcast());
        CHECK(to(2) == mac("01:00:5e:00:00:fb"));  // RFC 1112 6.4
        CHECK(counter(*host.layer, "arp_tx_requests") == 0);
    }
    SECTION("a refusing device makes the send fail, counted") {
        HostUnderTest host;
        host.learn_peer();
        host.device.refuse_tx = true;
        CHECK(host.layer->output(kPeerIp, IpProtocol{253}, transport_payload(4)) ==
              IpSendStatus::dropped);
        CHECK(counter(*host.layer, "eth_tx_dropped") == 1);
    }
}
