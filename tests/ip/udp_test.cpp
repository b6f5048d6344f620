// UDP through the layer: binding (ephemeral, taken, unbinding on destruction), receiving
// (checksums, bounded queue, endpoints), sending (header, checksum, one copy), callbacks.
#include <catch2/catch.hpp>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

Packet udp_frame(std::uint16_t port, const Bytes& data, std::uint16_t source_port = 5555) {
    Ipv4Fields f;
    return ipv4_frame(f, udp_bytes(kPeerIp, kOurIp, source_port, port, data));
}

}  // namespace

TEST_CASE("binding: ephemeral ports, taken ports, unbinding on destruction", "[ip][udp]") {
    HostUnderTest host;
    auto first = host.layer->udp_bind(0);
    auto second = host.layer->udp_bind(0);
    CHECK(first->local_port() >= 49152);
    CHECK(second->local_port() >= 49152);
    CHECK(first->local_port() != second->local_port());

    auto fixed = host.layer->udp_bind(7);
    CHECK(fixed->local_port() == 7);
    CHECK_THROWS_AS(host.layer->udp_bind(7), std::runtime_error);
    CHECK_THROWS_AS(host.layer->udp_bind(first->local_port()), std::runtime_error);

    host.learn_peer();
    fixed.reset();  // unbinds: the port is free again and closed meanwhile
    host.device.deliver(udp_frame(7, pattern(4)));
    CHECK(counter(*host.layer, "udp_drop_no_port") == 1);
    auto again = host.layer->udp_bind(7);
    host.device.deliver(udp_frame(7, pattern(4)));
    CHECK(again->receive());
}

TEST_CASE("received datagrams keep their endpoints and bytes", "[ip][udp]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(7);
    int readable = 0;
    socket->on_readable([&] { ++readable; });
    const Bytes data = pattern(100, 8);
    host.device.deliver(udp_frame(7, data, 3333));
    CHECK(readable == 1);
    auto datagram = socket->receive();
    REQUIRE(datagram);
    CHECK(datagram->from == UdpEndpoint{kPeerIp, 3333});
    CHECK(datagram->to == kOurIp);
    CHECK(bytes_of(datagram->payload) == data);
    CHECK_FALSE(socket->receive());
    CHECK(counter(*host.layer, "udp_rx") == 1);
}

TEST_CASE("UDP checksums: bad dropped, zero accepted", "[ip][udp]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(7);
    Bytes udp = udp_bytes(kPeerIp, kOurIp, 5555, 7, pattern(30));
    SECTION("a corrupted payload byte") {
        udp[20] ^= 0x10;
        host.device.deliver(ipv4_frame(Ipv4Fields{}, udp));
        CHECK(counter(*host.layer, "udp_drop_bad_checksum") == 1);
        CHECK_FALSE(socket->receive());
    }
    SECTION("no checksum (RFC 768: zero)") {
        udp[6] = udp[7] = 0;
        udp[20] ^= 0x10;  // nothing can notice
        host.device.deliver(ipv4_frame(Ipv4Fields{}, udp));
        CHECK(counter(*host.layer, "udp_drop_bad_checksum") == 0);
        CHECK(socket->receive());
    }
}

TEST_CASE("malformed UDP headers are counted", "[ip][udp]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(7);
    const auto with_length = [](std::uint16_t length) {
        Bytes udp = udp_bytes(kPeerIp, kOurIp, 5555, 7, pattern(30));
        udp.at(4) = static_cast<std::uint8_t>(length >> 8);
        udp.at(5) = static_cast<std::uint8_t>(length);
        return udp;
    };
    const Bytes too_long = with_length(200);  // beyond the 38 bytes there
    const Bytes too_short = with_length(4);   // shorter than the header itself
    const Bytes udp = udp_bytes(kPeerIp, kOurIp, 5555, 7, pattern(30));
    const Bytes truncated(udp.begin(), udp.begin() + 5);
    for (const Bytes* bad : {&too_long, &too_short, &truncated}) {
        host.device.deliver(ipv4_frame(Ipv4Fields{}, *bad));
    }
    CHECK(counter(*host.layer, "udp_drop_malformed") == 3);
    CHECK_FALSE(socket->receive());
}

TEST_CASE("the receive queue is bounded by udp_queue", "[ip][udp]") {
    HostUnderTest host("udp_queue: 4\n");
    auto socket = host.layer->udp_bind(7);
    for (std::uint8_t i = 0; i < 10; ++i) host.device.deliver(udp_frame(7, pattern(10, i)));
    CHECK(counter(*host.layer, "udp_rx") == 4);
    CHECK(counter(*host.layer, "udp_drop_queue_full") == 6);
    for (std::uint8_t i = 0; i < 4; ++i) {
        auto datagram = socket->receive();
        REQUIRE(datagram);
        CHECK(bytes_of(datagram->payload) == pattern(10, i));  // the oldest were kept, in order
    }
    CHECK_FALSE(socket->receive());
    host.device.deliver(udp_frame(7, pattern(10, 50)));  // room again
    CHECK(socket->receive());
}

TEST_CASE("sent datagrams carry a valid header and checksum", "[ip][udp]") {
    HostUnderTest host;
    host.learn_peer();
    auto socket = host.layer->udp_bind(4444);
    const Bytes data = pattern(301, 2);  // odd length: the checksum pads
    CHECK(socket->send_to({kPeerIp, 53}, data) == IpSendStatus::sent);
    REQUIRE(host.device.sent.size() == 1);
    const auto ip = ipv4_of(host.device.sent[0]);
    CHECK(ip.protocol() == IpProtocol::udp);
    CHECK(ip.total_length() == 20 + 8 + 301);
    const auto udp = wire::UdpView::parse(ip.payload());
    REQUIRE(udp);
    CHECK(udp->source_port() == 4444);
    CHECK(udp->destination_port() == 53);
    CHECK(udp->checksum() != 0);
    CHECK(udp->verify_checksum(test_checksum(), kOurIp, kPeerIp));
    CHECK(Bytes(udp->payload().begin(), udp->payload().end()) == data);
    CHECK(counter(*host.layer, "udp_tx") == 1);

    CHECK(socket->send_to({kPeerIp, 53}, Bytes(65508)) == IpSendStatus::too_big);
    CHECK(socket->send_to({ip4("192.168.1.1"), 53}, data) == IpSendStatus::no_route);
    CHECK(counter(*host.layer, "udp_tx") == 1);
}

TEST_CASE("the readable callback may replace itself or destroy its socket", "[ip][udp]") {
    HostUnderTest host;
    auto socket = host.layer->udp_bind(7);
    int first = 0, second = 0;
    socket->on_readable([&] {
        ++first;
        socket->on_readable([&] { ++second; });
    });
    host.device.deliver(udp_frame(7, pattern(4)));
    host.device.deliver(udp_frame(7, pattern(4)));
    CHECK(first == 1);
    CHECK(second == 1);

    socket->on_readable([&] { socket.reset(); });
    host.device.deliver(udp_frame(7, pattern(4)));
    CHECK_FALSE(socket);
    host.learn_peer();
    host.device.deliver(udp_frame(7, pattern(4)));
    CHECK(counter(*host.layer, "udp_drop_no_port") == 1);
}

TEST_CASE("sockets outliving the layer fail their sends instead of crashing", "[ip][udp]") {
    auto host = std::make_unique<HostUnderTest>();
    auto socket = host->layer->udp_bind(7);
    host->layer.reset();
    CHECK(socket->send_to({kPeerIp, 9}, pattern(4)) == IpSendStatus::dropped);
    socket.reset();
}
