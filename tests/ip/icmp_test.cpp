// ICMP through the layer: echo replies (in place, fragmented), errors generated (port and
// protocol unreachable, reassembly time exceeded) with RFC 1122 suppression and rate limiting,
// and errors received, handed to the UDP socket or transport that owns the quoted flow.
#include <catch2/catch.hpp>
#include <chrono>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using wire::IcmpType;
using wire::IcmpView;
using namespace std::chrono_literals;

namespace {

Ipv4Fields icmp_fields() {
    Ipv4Fields f;
    f.protocol = 1;
    return f;
}

/// The ICMP message in a transmitted, unfragmented frame.
IcmpView icmp_of(const Packet& frame) {
    const auto ip = ipv4_of(frame);
    REQUIRE(ip.protocol() == IpProtocol::icmp);
    const auto view = IcmpView::parse(ip.payload());
    REQUIRE(view);
    return *view;
}

Packet udp_frame_to(std::uint16_t port, std::uint16_t id = 1, Ipv4Address destination = kOurIp,
                    MacAddress frame_to = kOurMac, Ipv4Address source = kPeerIp) {
    Ipv4Fields f;
    f.source = source;
    f.destination = destination;
    f.identification = id;
    return ipv4_frame(f, udp_bytes(source, destination, 5555, port, pattern(20)), frame_to);
}

}  // namespace

TEST_CASE("an echo request is answered in place with a valid checksum", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    const Bytes data = pattern(56, 3);
    Packet request = ipv4_frame(icmp_fields(), icmp_echo_bytes(0x1234, 7, data));
    const std::uint8_t* buffer = request.data();
    host.device.deliver(std::move(request));

    REQUIRE(host.device.sent.size() == 1);
    const Packet& reply = host.device.sent[0];
    CHECK(reply.data() == buffer);  // the request's own buffer went back out
    const auto ip = ipv4_of(reply);
    CHECK(ip.source() == kOurIp);
    CHECK(ip.destination() == kPeerIp);
    CHECK(ip.ttl() == 64);
    CHECK(ip.verify_checksum(test_checksum()));
    const auto icmp = icmp_of(reply);
    CHECK(icmp.type() == IcmpType::echo_reply);
    CHECK(icmp.code() == 0);
    CHECK(icmp.echo_identifier() == 0x1234);
    CHECK(icmp.echo_sequence() == 7);
    CHECK(Bytes(icmp.payload().begin(), icmp.payload().end()) == data);
    CHECK(icmp.verify_checksum(test_checksum()));
    CHECK(counter(*host.layer, "icmp_rx_echo_requests") == 1);
    CHECK(counter(*host.layer, "icmp_tx_echo_replies") == 1);
}

TEST_CASE("a fragmented echo request gets a fragmented reply", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    const Bytes data = pattern(3000, 9);
    const Bytes message = icmp_echo_bytes(77, 1, data);
    for (std::size_t offset = 0; offset < message.size(); offset += 1480) {
        Ipv4Fields f = icmp_fields();
        f.identification = 4242;
        f.fragment_offset = static_cast<std::uint16_t>(offset);
        const std::size_t length = std::min<std::size_t>(1480, message.size() - offset);
        f.more_fragments = offset + length < message.size();
        host.device.deliver(
            ipv4_frame(f, std::span<const std::uint8_t>(message).subspan(offset, length)));
    }
    CHECK(counter(*host.layer, "reasm_ok") == 1);

    REQUIRE(host.device.sent.size() == 3);
    Bytes reply(message.size());
    std::size_t covered = 0;
    const std::uint16_t id = ipv4_of(host.device.sent[0]).identification();
    for (const Packet& frame : host.device.sent) {
        CHECK(frame.size() <= 1514);
        const auto ip = ipv4_of(frame);
        CHECK(ip.identification() == id);
        CHECK(ip.destination() == kPeerIp);
        CHECK(ip.verify_checksum(test_checksum()));
        CHECK(ip.fragment_offset() == covered);
        std::copy(ip.payload().begin(), ip.payload().end(), reply.begin() + covered);
        covered += ip.payload().size();
    }
    CHECK(covered == message.size());
    const auto icmp = IcmpView::parse(reply);
    REQUIRE(icmp);
    CHECK(icmp->type() == IcmpType::echo_reply);
    CHECK(icmp->verify_checksum(test_checksum()));
    CHECK(Bytes(icmp->payload().begin(), icmp->payload().end()) == data);
    CHECK(counter(*host.layer, "ipv4_frag_tx") == 3);
}

TEST_CASE("echo requests to a broadcast address are not answered", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    Ipv4Fields f = icmp_fields();
    f.destination = ip4("10.0.0.255");
    host.device.deliver(ipv4_frame(f, icmp_echo_bytes(1, 1, pattern(8)), MacAddress::broadcast()));
    CHECK(host.device.sent.empty());
    CHECK(counter(*host.layer, "icmp_drop_broadcast_echo") == 1);
}

TEST_CASE("UDP to a closed port gets a rate-limited port unreachable", "[ip][icmp]") {
    HostUnderTest host("icmp_rate: 1\nicmp_burst: 5\n");
    host.learn_peer();
    for (std::uint16_t i = 0; i < 20; ++i) host.device.deliver(udp_frame_to(9, i));
    CHECK(counter(*host.layer, "udp_drop_no_port") == 20);
    CHECK(counter(*host.layer, "icmp_tx_unreachable") == 5);
    CHECK(counter(*host.layer, "icmp_rate_limited") == 15);
    REQUIRE(host.device.sent.size() == 5);

    const auto ip = ipv4_of(host.device.sent[0]);
    CHECK(ip.source() == kOurIp);
    CHECK(ip.destination() == kPeerIp);
    const auto icmp = icmp_of(host.device.sent[0]);
    CHECK(icmp.type() == IcmpType::destination_unreachable);
    CHECK(icmp.code() == 3);
    CHECK(icmp.verify_checksum(test_checksum()));
    const auto quote = icmp.quoted();
    REQUIRE(quote);
    CHECK(quote->source == kPeerIp);
    CHECK(quote->destination == kOurIp);
    CHECK(quote->protocol == IpProtocol::udp);
    CHECK(quote->source_port() == 5555);
    CHECK(quote->destination_port() == 9);
    CHECK(icmp.payload().size() == 20 + 8);  // the header plus 64 bits (RFC 792)

    host.device.take_sent();
    host.scheduler.advance(2s);  // two tokens come back
    for (std::uint16_t i = 0; i < 3; ++i) host.device.deliver(udp_frame_to(9, 100 + i));
    CHECK(host.device.sent.size() == 2);
    CHECK(counter(*host.layer, "icmp_rate_limited") == 16);
}

TEST_CASE("an unknown protocol gets a protocol unreachable", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    Ipv4Fields f;
    f.protocol = 200;
    host.device.deliver(ipv4_frame(f, pattern(30)));
    CHECK(counter(*host.layer, "ipv4_drop_no_transport") == 1);
    REQUIRE(host.device.sent.size() == 1);
    const auto icmp = icmp_of(host.device.sent[0]);
    CHECK(icmp.type() == IcmpType::destination_unreachable);
    CHECK(icmp.code() == 2);
    CHECK(icmp.quoted()->protocol == IpProtocol{200});
}

TEST_CASE("no ICMP error where RFC 1122 3.2.2 forbids one", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    SECTION("UDP to the limited broadcast address") {
        host.device.deliver(udp_frame_to(9, 1, Ipv4Address::broadcast(), MacAddress::broadcast()));
    }
    SECTION("UDP to the subnet broadcast address") {
        host.device.deliver(udp_frame_to(9, 1, ip4("10.0.0.255")));
    }
    SECTION("UDP to us inside a link-layer broadcast") {
        host.device.deliver(udp_frame_to(9, 1, kOurIp, MacAddress::broadcast()));
    }
    SECTION("UDP from the unspecified source") {
        host.device.deliver(udp_frame_to(9, 1, kOurIp, kOurMac, Ipv4Address{}));
    }
    SECTION("an ICMP error about an unknown flow") {
        Ipv4Fields quoted;
        quoted.source = kOurIp;
        quoted.destination = kPeerIp;
        quoted.protocol = 200;
        const Bytes original = ipv4_bytes(quoted, pattern(8));
        const auto repr =
            wire::IcmpRepr::destination_unreachable(wire::IcmpUnreachable::protocol, original);
        Bytes message(repr.buffer_len());
        repr.emit(message, test_checksum());
        host.device.deliver(ipv4_frame(icmp_fields(), message));
        CHECK(counter(*host.layer, "icmp_rx_errors") == 1);
    }
    CHECK(host.device.sent.empty());
    CHECK(counter(*host.layer, "icmp_tx_unreachable") == 0);
    CHECK(counter(*host.layer, "icmp_rate_limited") == 0);
}

TEST_CASE("an incomplete datagram times out with a time exceeded for fragment zero",
          "[ip][icmp][reassembly]") {
    HostUnderTest host("reassembly_timeout: 30s\n");
    host.learn_peer();
    Ipv4Fields f;
    f.identification = 5;
    f.more_fragments = true;
    const Bytes udp = udp_bytes(kPeerIp, kOurIp, 5555, 9, pattern(100));

    SECTION("fragment zero arrived") {
        host.device.deliver(ipv4_frame(f, std::span<const std::uint8_t>(udp).first(64)));
        CHECK(counter(*host.layer, "reasm_datagrams_current") == 1);
        host.scheduler.advance(29s);
        CHECK(host.device.sent.empty());
        host.scheduler.advance(1s);
        CHECK(counter(*host.layer, "reasm_drop_timeout") == 1);
        REQUIRE(host.device.sent.size() == 1);
        const auto icmp = icmp_of(host.device.sent[0]);
        CHECK(icmp.type() == IcmpType::time_exceeded);
        CHECK(icmp.code() == 1);
        CHECK(icmp.quoted()->destination_port() == 9);
        CHECK(counter(*host.layer, "icmp_tx_time_exceeded") == 1);
    }
    SECTION("only a later fragment arrived") {
        f.fragment_offset = 64;
        f.more_fragments = false;
        host.device.deliver(ipv4_frame(f, std::span<const std::uint8_t>(udp).subspan(64)));
        host.scheduler.advance(31s);
        CHECK(counter(*host.layer, "reasm_drop_timeout") == 1);
        CHECK(host.device.sent.empty());
    }
    CHECK(counter(*host.layer, "reasm_bytes_current") == 0);
    CHECK(host.scheduler.pending_timers() == 0);
}

TEST_CASE("a received port unreachable reaches the UDP socket it is about", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    auto socket = host.layer->udp_bind(4000);
    int readable = 0;
    socket->on_readable([&] { ++readable; });

    const auto error_frame = [](Ipv4Address quoted_source, wire::IcmpUnreachable code,
                                std::uint8_t protocol, std::uint16_t mtu = 0) {
        Ipv4Fields quoted;
        quoted.source = quoted_source;
        quoted.destination = kPeerIp;
        quoted.protocol = protocol;
        Bytes transport = udp_bytes(quoted_source, kPeerIp, 4000, 6000, pattern(20));
        wire::store_be32(&transport[4], 0xdeadbeef);
        const Bytes original = ipv4_bytes(quoted, transport);
        const auto repr = wire::IcmpRepr::destination_unreachable(code, original, mtu);
        Bytes message(repr.buffer_len());
        repr.emit(message, test_checksum());
        return ipv4_frame(icmp_fields(), message);
    };

    host.device.deliver(error_frame(kOurIp, wire::IcmpUnreachable::port, 17));
    CHECK(readable == 1);
    const auto error = socket->take_error();
    REQUIRE(error);
    CHECK(error->type == 3);
    CHECK(error->code == 3);
    CHECK(error->reporter == kPeerIp);
    CHECK(error->source == kOurIp);
    CHECK(error->destination == kPeerIp);
    CHECK(error->source_port == 4000);
    CHECK(error->destination_port == 6000);
    CHECK(error->quoted_word == 0xdeadbeef);
    CHECK(host.device.sent.empty());  // never an error about an error

    // An error quoting someone else's datagram is ignored (RFC 5927).
    host.device.deliver(error_frame(ip4("10.0.0.77"), wire::IcmpUnreachable::port, 17));
    CHECK(counter(*host.layer, "icmp_drop_foreign_error") == 1);
    CHECK_FALSE(socket->take_error());
    CHECK(readable == 1);

    // Other protocols get it through Transport::ip_error, with the RFC 1191 next-hop MTU.
    RecordingTransport transport;
    host.layer->register_transport(IpProtocol{253}, &transport);
    host.device.deliver(
        error_frame(kOurIp, wire::IcmpUnreachable::fragmentation_needed, 253, 1400));
    REQUIRE(transport.errors.size() == 1);
    CHECK(transport.errors[0].code == 4);
    CHECK(transport.errors[0].next_hop_mtu == 1400);
    CHECK(transport.errors[0].quoted_word == 0xdeadbeef);
    CHECK(counter(*host.layer, "icmp_rx_errors") == 2);
}

TEST_CASE("echo requests from the stack and their replies", "[ip][icmp]") {
    HostUnderTest host;
    host.learn_peer();
    const Bytes data = pattern(32, 4);
    CHECK(host.layer->send_echo_request(kPeerIp, 99, 3, data) == IpSendStatus::sent);
    REQUIRE(host.device.sent.size() == 1);
    const auto sent = icmp_of(host.device.sent[0]);
    CHECK(sent.type() == IcmpType::echo_request);
    CHECK(sent.verify_checksum(test_checksum()));
    CHECK(sent.echo_identifier() == 99);

    std::vector<std::pair<std::uint16_t, Bytes>> replies;
    host.layer->on_echo_reply(99, [&](const EchoReply& reply) {
        CHECK(reply.from == kPeerIp);
        CHECK(reply.identifier == 99);
        replies.emplace_back(reply.sequence, Bytes(reply.data.begin(), reply.data.end()));
    });
    host.device.deliver(ipv4_frame(icmp_fields(), icmp_echo_bytes(99, 3, data, false)));
    host.device.deliver(ipv4_frame(icmp_fields(), icmp_echo_bytes(98, 3, data, false)));
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].first == 3);
    CHECK(replies[0].second == data);
    CHECK(counter(*host.layer, "icmp_rx_echo_replies") == 2);

    host.layer->on_echo_reply(99, {});
    host.device.deliver(ipv4_frame(icmp_fields(), icmp_echo_bytes(99, 4, data, false)));
    CHECK(replies.size() == 1);
    CHECK(host.layer->send_echo_request(kPeerIp, 1, 1, Bytes(65508)) == IpSendStatus::too_big);
}
