// Two IP layers joined by the `wire` driver, on one ManualScheduler: ARP between them, UDP both
// ways (the first datagram not lost), large datagrams fragmented and reassembled, ping up to the
// 65535-byte maximum, and a port unreachable coming back to the sender's socket.
#include <catch2/catch.hpp>
#include <chrono>

#include "ip_test_support.hpp"
#include "wire_device.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

struct Stack {
    Stack(ManualScheduler& scheduler, const std::string& link, const char* mac_text,
          const std::string& address, std::uint32_t mtu, const std::string& extra)
        : device(options(link, mac_text, mtu), scheduler),
          env(scheduler, test_checksum(), device),
          layer(make_layer(env, "address: " + address + "\n" + extra)) {}

    static drivers::WireOptions options(const std::string& link, const char* mac_text,
                                        std::uint32_t mtu) {
        drivers::WireOptions o;
        o.link = link;
        o.mac = mac(mac_text);
        o.mtu = mtu;
        return o;
    }

    drivers::WireDevice device;
    IpTestEnv env;
    std::unique_ptr<ip::Ipv4Layer> layer;
};

struct TwoStacks {
    explicit TwoStacks(const std::string& link, std::uint32_t mtu = 1500,
                       const std::string& extra = "")
        : a(scheduler, link, "02:00:00:00:00:0a", "10.1.0.1/24", mtu, extra),
          b(scheduler, link, "02:00:00:00:00:0b", "10.1.0.2/24", mtu, extra) {
        a.layer->start();
        b.layer->start();
        scheduler.run_until_idle();
    }
    ManualScheduler scheduler;
    Stack a, b;
};

const Ipv4Address kStackA = ip4("10.1.0.1");
const Ipv4Address kStackB = ip4("10.1.0.2");

}  // namespace

TEST_CASE("UDP round trip between two stacks, first datagram included", "[ip][two_stacks]") {
    TwoStacks net("ip-udp-round-trip");
    auto server = net.b.layer->udp_bind(7);
    auto client = net.a.layer->udp_bind(0);
    const Bytes hello = pattern(64, 1);

    CHECK(client->send_to({kStackB, 7}, hello) == IpSendStatus::queued);  // ARP first
    net.scheduler.run_until_idle();
    auto request = server->receive();
    REQUIRE(request);
    CHECK(bytes_of(request->payload) == hello);
    CHECK(request->from == UdpEndpoint{kStackA, client->local_port()});

    // B learned A from A's request (RFC 826): the answer goes without ARP.
    const Bytes answer = pattern(64, 2);
    CHECK(server->send_to(request->from, answer) == IpSendStatus::sent);
    net.scheduler.run_until_idle();
    auto reply = client->receive();
    REQUIRE(reply);
    CHECK(bytes_of(reply->payload) == answer);
    CHECK(reply->from == UdpEndpoint{kStackB, 7});

    CHECK(counter(*net.a.layer, "arp_tx_requests") == 1);
    CHECK(counter(*net.b.layer, "arp_tx_requests") == 0);
    CHECK(counter(*net.a.layer, "udp_tx") == 1);
    CHECK(counter(*net.b.layer, "udp_rx") == 1);

    // Steady state: many datagrams, none lost, in order.
    for (std::uint8_t i = 0; i < 100; ++i) {
        CHECK(client->send_to({kStackB, 7}, pattern(200, i)) == IpSendStatus::sent);
    }
    net.scheduler.run_until_idle();
    for (std::uint8_t i = 0; i < 100; ++i) {
        auto datagram = server->receive();
        REQUIRE(datagram);
        CHECK(bytes_of(datagram->payload) == pattern(200, i));
    }
}

TEST_CASE("a large UDP datagram is fragmented and reassembled", "[ip][two_stacks]") {
    TwoStacks net("ip-udp-large", 1500);
    auto server = net.b.layer->udp_bind(9000);
    auto client = net.a.layer->udp_bind(9001);
    const Bytes big = pattern(20000, 7);
    client->send_to({kStackB, 9000}, big);
    net.scheduler.run_until_idle();
    auto datagram = server->receive();
    REQUIRE(datagram);
    CHECK(bytes_of(datagram->payload) == big);
    CHECK((datagram->payload.flags() & Packet::kReassembled) != 0);
    CHECK(counter(*net.a.layer, "ipv4_frag_tx") == 14);  // 20028 bytes in 1480-byte pieces
    CHECK(counter(*net.b.layer, "reasm_ok") == 1);
    CHECK(counter(*net.b.layer, "reasm_bytes_current") == 0);
    CHECK(counter(*net.b.layer, "reasm_bytes_peak") <= 1024 * 1024);
}

TEST_CASE("ping between two stacks, up to the largest datagram", "[ip][two_stacks]") {
    TwoStacks net("ip-ping");
    std::vector<EchoReply> replies;
    std::vector<Bytes> data_seen;
    net.a.layer->on_echo_reply(0x4242, [&](const EchoReply& reply) {
        replies.push_back(reply);
        data_seen.emplace_back(reply.data.begin(), reply.data.end());
    });
    const Bytes small = pattern(56, 3);
    CHECK(net.a.layer->send_echo_request(kStackB, 0x4242, 1, small) == IpSendStatus::queued);
    net.scheduler.run_until_idle();
    // 65535 = 20 (IP) + 8 (ICMP) + 65507: both directions fragmented into 45 pieces.
    const Bytes largest = pattern(65507, 5);
    CHECK(net.a.layer->send_echo_request(kStackB, 0x4242, 2, largest) == IpSendStatus::sent);
    net.scheduler.run_until_idle();

    REQUIRE(replies.size() == 2);
    CHECK(replies[0].from == kStackB);
    CHECK(replies[0].sequence == 1);
    CHECK(data_seen[0] == small);
    CHECK(replies[1].sequence == 2);
    CHECK(data_seen[1] == largest);
    CHECK(counter(*net.b.layer, "icmp_tx_echo_replies") == 2);
    CHECK(counter(*net.b.layer, "reasm_ok") == 1);
    CHECK(counter(*net.a.layer, "reasm_ok") == 1);
    CHECK(counter(*net.b.layer, "ipv4_frag_tx") == 45);
    CHECK(counter(*net.a.layer, "reasm_bytes_peak") <= 1024 * 1024);
}

TEST_CASE("a datagram to a closed port comes back as an error on the socket", "[ip][two_stacks]") {
    TwoStacks net("ip-refused");
    auto client = net.a.layer->udp_bind(0);
    bool readable = false;
    client->on_readable([&] { readable = true; });
    client->send_to({kStackB, 9}, pattern(10));
    net.scheduler.run_until_idle();
    CHECK(readable);
    const auto error = client->take_error();
    REQUIRE(error);
    CHECK(error->type == 3);
    CHECK(error->code == 3);
    CHECK(error->reporter == kStackB);
    CHECK(error->destination_port == 9);
    CHECK(error->source_port == client->local_port());
    CHECK_FALSE(client->receive());
}

TEST_CASE("don't-fragment datagrams over the MTU are refused locally", "[ip][two_stacks]") {
    TwoStacks net("ip-df", 1000);
    IpSendOptions options;
    options.dont_fragment = true;
    CHECK(net.a.layer->output(kStackB, IpProtocol{253}, transport_payload(981), options) ==
          IpSendStatus::too_big);
    CHECK(net.a.layer->output(kStackB, IpProtocol{253}, transport_payload(980), options) ==
          IpSendStatus::queued);
    RecordingTransport transport;
    net.b.layer->register_transport(IpProtocol{253}, &transport);
    net.scheduler.run_until_idle();
    REQUIRE(transport.received.size() == 1);
    CHECK(transport.received[0].packet.size() == 980);
}
