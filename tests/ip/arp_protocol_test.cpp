// ARP through the whole layer (crafted frames on a FakeDevice): replies, learning per RFC 826,
// the first datagram parked during resolution, the give-up reported to UDP and transports,
// a bounded cache under a storm, malformed packets and address conflicts.
#include <catch2/catch.hpp>
#include <chrono>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using wire::ArpOperation;
using namespace std::chrono_literals;

TEST_CASE("a request for our address is answered and teaches us the sender", "[ip][arp]") {
    HostUnderTest host;
    host.device.deliver(arp_frame(ArpOperation::request, kPeerMac, kPeerIp, kOurIp));
    REQUIRE(host.device.sent.size() == 1);
    const auto reply = arp_of(host.device.sent[0]);
    REQUIRE(reply);
    CHECK(reply->operation == ArpOperation::reply);
    CHECK(reply->sender_mac == kOurMac);
    CHECK(reply->sender_ip == kOurIp);
    CHECK(reply->target_mac == kPeerMac);
    CHECK(reply->target_ip == kPeerIp);
    CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() == kPeerMac);
    CHECK(host.layer->arp_cache().resolved(kPeerIp));
    CHECK(counter(*host.layer, "arp_rx_requests") == 1);
    CHECK(counter(*host.layer, "arp_tx_replies") == 1);

    // Learned: a datagram to the peer leaves at once, without a request of ours.
    host.device.take_sent();
    auto socket = host.layer->udp_bind(4000);
    CHECK(socket->send_to({kPeerIp, 9}, pattern(10)) == IpSendStatus::sent);
    REQUIRE(host.device.sent.size() == 1);
    CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() == kPeerMac);
    CHECK(counter(*host.layer, "arp_tx_requests") == 0);
}

TEST_CASE("traffic between other hosts teaches us nothing", "[ip][arp]") {
    HostUnderTest host;
    host.device.deliver(arp_frame(ArpOperation::request, kPeerMac, kPeerIp, ip4("10.0.0.7")));
    host.device.deliver(arp_frame(ArpOperation::reply, kPeerMac, kPeerIp, ip4("10.0.0.7"),
                                  MacAddress::broadcast()));
    CHECK(host.device.sent.empty());
    CHECK_FALSE(host.layer->arp_cache().contains(kPeerIp));
    CHECK(counter(*host.layer, "arp_rx_not_for_us") == 2);

    SECTION("but an entry we have is refreshed with the new MAC (merge)") {
        host.learn_peer();
        auto socket = host.layer->udp_bind(4000);
        CHECK(socket->send_to({kPeerIp, 9}, pattern(10)) == IpSendStatus::sent);
        const MacAddress moved = mac("02:00:00:00:00:99");
        // Gratuitous ARP from the peer after a NIC change: sender == target.
        host.device.deliver(arp_frame(ArpOperation::request, moved, kPeerIp, kPeerIp));
        CHECK(socket->send_to({kPeerIp, 9}, pattern(10)) == IpSendStatus::sent);
        REQUIRE(host.device.sent.size() == 2);
        CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() == kPeerMac);
        CHECK(wire::EthernetView::parse(host.device.sent[1].bytes())->destination() == moved);
    }
}

TEST_CASE("an entry past its lifetime is confirmed while traffic flows", "[ip][arp]") {
    HostUnderTest host("arp_lifetime: 10s\n");
    host.learn_peer();
    auto socket = host.layer->udp_bind(4000);
    CHECK(socket->send_to({kPeerIp, 9}, pattern(10)) == IpSendStatus::sent);
    host.scheduler.advance(10s);
    CHECK(socket->send_to({kPeerIp, 9}, pattern(10)) == IpSendStatus::sent);
    const auto sent = host.device.take_sent();
    REQUIRE(sent.size() == 3);  // datagram, then a unicast confirmation and the datagram
    const auto confirm = arp_of(sent[1]);
    REQUIRE(confirm);
    CHECK(confirm->target_ip == kPeerIp);
    CHECK(wire::EthernetView::parse(sent[1].bytes())->destination() == kPeerMac);
    CHECK(wire::EthernetView::parse(sent[2].bytes())->destination() == kPeerMac);
    CHECK(counter(*host.layer, "arp_refresh_probes") == 1);
    // The peer answers: the entry lives on and no more requests go out.
    host.device.deliver(
        arp_frame(ArpOperation::reply, kPeerMac, kPeerIp, kOurIp, kOurMac, kOurMac));
    host.scheduler.advance(5s);
    CHECK(host.device.sent.empty());
    CHECK(host.layer->arp_cache().resolved(kPeerIp));
}

TEST_CASE("the first datagram waits for ARP and leaves with the reply", "[ip][arp]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(4000);
    const Bytes first = pattern(32, 5);
    CHECK(socket->send_to({kPeerIp, 5000}, first) == IpSendStatus::queued);
    REQUIRE(host.device.sent.size() == 1);
    const auto request = arp_of(host.device.sent[0]);
    REQUIRE(request);
    CHECK(request->operation == ArpOperation::request);
    CHECK(request->target_ip == kPeerIp);
    CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() ==
          MacAddress::broadcast());
    host.device.take_sent();

    CHECK(socket->send_to({kPeerIp, 5000}, pattern(8, 6)) == IpSendStatus::queued);
    CHECK(host.device.sent.empty());  // one request per resolution, not per datagram

    host.device.deliver(
        arp_frame(ArpOperation::reply, kPeerMac, kPeerIp, kOurIp, kOurMac, kOurMac));
    REQUIRE(host.device.sent.size() == 2);
    const auto datagram = ipv4_of(host.device.sent[0]);
    CHECK(datagram.destination() == kPeerIp);
    const auto udp = wire::UdpView::parse(datagram.payload());
    REQUIRE(udp);
    CHECK(udp->destination_port() == 5000);
    CHECK(Bytes(udp->payload().begin(), udp->payload().end()) == first);
    CHECK(wire::EthernetView::parse(host.device.sent[0].bytes())->destination() == kPeerMac);
    CHECK(counter(*host.layer, "arp_rx_replies") == 1);

    // Nothing more is asked once it answered.
    host.device.take_sent();
    host.scheduler.advance(10s);
    CHECK(host.device.sent.empty());
}

TEST_CASE("an address that never answers fails its senders", "[ip][arp]") {
    HostUnderTest host;
    RecordingTransport transport;
    host.layer->register_transport(IpProtocol{253}, &transport);
    auto socket = host.layer->udp_bind(4000);
    int readable = 0;
    socket->on_readable([&] { ++readable; });
    const Ipv4Address silent = ip4("10.0.0.50");

    CHECK(socket->send_to({silent, 7}, pattern(10)) == IpSendStatus::queued);
    Packet segment = transport_payload(12);
    wire::store_be16(segment.data(), 1111);
    wire::store_be16(segment.data() + 2, 2222);
    CHECK(host.layer->output(silent, IpProtocol{253}, std::move(segment)) == IpSendStatus::queued);

    host.scheduler.advance(2900ms);
    CHECK(readable == 0);
    host.scheduler.advance(100ms);
    CHECK(counter(*host.layer, "arp_tx_requests") == 3);
    CHECK(counter(*host.layer, "arp_resolve_failures") == 1);
    CHECK(counter(*host.layer, "arp_unresolved_drops") == 2);

    CHECK(readable == 1);
    const auto error = socket->take_error();
    REQUIRE(error);
    CHECK(error->type == 3);
    CHECK(error->code == 1);  // host unreachable
    CHECK(error->reporter == kOurIp);
    CHECK(error->source == kOurIp);
    CHECK(error->destination == silent);
    CHECK(error->protocol == IpProtocol::udp);
    CHECK(error->source_port == 4000);
    CHECK(error->destination_port == 7);
    CHECK_FALSE(socket->take_error());  // taking clears it

    REQUIRE(transport.errors.size() == 1);
    CHECK(transport.errors[0].code == 1);
    CHECK(transport.errors[0].reporter == kOurIp);
    CHECK(transport.errors[0].source_port == 1111);
    CHECK(transport.errors[0].destination_port == 2222);
    CHECK(host.device.take_sent().size() == 3);  // the three broadcasts, no datagram
}

TEST_CASE("an ARP storm keeps the cache bounded", "[ip][arp]") {
    HostUnderTest host("arp_cache_size: 8\n", 1500, "10.0.0.2/16");
    SECTION("requests for us from 1000 different hosts") {
        for (std::uint32_t i = 0; i < 1000; ++i) {
            const Ipv4Address sender(0x0a000100u + i);
            MacAddress sender_mac = kPeerMac;
            sender_mac.bytes[4] = static_cast<std::uint8_t>(i >> 8);
            sender_mac.bytes[5] = static_cast<std::uint8_t>(i);
            host.device.deliver(arp_frame(ArpOperation::request, sender_mac, sender, kOurIp));
        }
        CHECK(host.layer->arp_cache().size() <= 8);
        CHECK(counter(*host.layer, "arp_cache_entries_peak") == 8);
        CHECK(counter(*host.layer, "arp_tx_replies") == 1000);  // each one still answered
        CHECK(counter(*host.layer, "arp_cache_evictions") == 992);
    }
    SECTION("broadcasts between other hosts create nothing") {
        for (std::uint32_t i = 0; i < 1000; ++i) {
            const Ipv4Address sender(0x0a000000u | (3 + i % 250));
            host.device.deliver(
                arp_frame(ArpOperation::request, kPeerMac, sender, ip4("10.0.0.1")));
        }
        CHECK(host.layer->arp_cache().size() == 0);
        CHECK(counter(*host.layer, "arp_tx_replies") == 0);
    }
    SECTION("replies aimed at us from off-link senders create nothing") {
        for (std::uint32_t i = 0; i < 100; ++i) {
            host.device.deliver(arp_frame(ArpOperation::reply, kPeerMac,
                                          Ipv4Address(0xc0a80000u + i), kOurIp, kOurMac, kOurMac));
        }
        CHECK(host.layer->arp_cache().size() == 0);
    }
    CHECK(host.scheduler.pending_timers() == 0);
}

TEST_CASE("malformed ARP and address conflicts are counted, never learned", "[ip][arp]") {
    HostUnderTest host;
    const Bytes good = arp_bytes(ArpOperation::request, kPeerMac, kPeerIp, MacAddress{}, kOurIp);
    Bytes short_arp(good.begin(), good.begin() + 20);
    Bytes token_ring = good;
    token_ring[1] = 6;
    Bytes rarp = good;
    rarp[7] = 3;
    Bytes multicast_sender = good;
    multicast_sender[8] = 0x01;
    for (const Bytes* bad : {&short_arp, &token_ring, &rarp, &multicast_sender}) {
        host.device.deliver(ethernet_frame(MacAddress::broadcast(), kPeerMac, 0x0806, *bad));
    }
    CHECK(counter(*host.layer, "arp_drop_malformed") == 4);
    CHECK(counter(*host.layer, "arp_rx_requests") == 0);
    CHECK(host.device.sent.empty());

    // Someone else claims our address: counted, not learned, not answered.
    host.device.deliver(arp_frame(ArpOperation::request, kPeerMac, kOurIp, kOurIp));
    CHECK(counter(*host.layer, "arp_address_conflicts") == 1);
    CHECK(host.layer->arp_cache().size() == 0);
    CHECK(host.device.sent.empty());

    // An RFC 5227 probe for our address (sender 0.0.0.0) is answered but teaches nothing.
    host.device.deliver(arp_frame(ArpOperation::request, kPeerMac, Ipv4Address{}, kOurIp));
    REQUIRE(host.device.sent.size() == 1);
    CHECK(arp_of(host.device.sent[0])->target_ip == Ipv4Address{});
    CHECK(host.layer->arp_cache().size() == 0);
    CHECK(counter(*host.layer, "eth_rx_frames") == 6);
}
