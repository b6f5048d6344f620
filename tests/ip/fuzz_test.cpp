// 100,000 hostile frames into one layer: random bytes and mutated valid frames (UDP, ICMP,
// fragments, ARP), some with the IP header checksum fixed up so the damage reaches the upper
// layers. Nothing may crash, every bound must hold, and the counters must add up (the receive
// side equations of ip_counters.hpp).
#include <catch2/catch.hpp>
#include <chrono>
#include <random>

#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

class FrameFuzzer {
public:
    explicit FrameFuzzer(std::uint32_t seed) : random_(seed) {}

    Packet next() {
        switch (pick(6)) {
            case 0: return random_frame();
            case 1: return mutate(udp_datagram(), 0x0800);
            case 2: return mutate(icmp_datagram(), 0x0800);
            case 3: return mutate(fragment(), 0x0800);
            case 4: return mutate(arp(), 0x0806);
            default: return mutate(other_protocol(), 0x0800);
        }
    }

private:
    std::uint32_t pick(std::uint32_t n) {
        return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(random_);
    }
    std::uint8_t byte() { return static_cast<std::uint8_t>(pick(256)); }

    MacAddress destination() {
        switch (pick(4)) {
            case 0: return MacAddress::broadcast();
            case 1: return mac("02:00:00:00:00:77");
            default: return kOurMac;
        }
    }

    Packet random_frame() {
        Bytes bytes(pick(120));
        for (auto& b : bytes) b = byte();
        if (bytes.size() >= 14 && pick(2) == 0) {
            std::memcpy(bytes.data(), kOurMac.bytes.data(), 6);
            bytes[12] = pick(2) ? 0x08 : byte();
            bytes[13] = pick(2) ? 0x00 : 0x06;
        }
        return Packet::copy_of(bytes);
    }

    Ipv4Address source() { return pick(8) == 0 ? Ipv4Address(random_()) : kPeerIp; }

    Bytes udp_datagram() {
        Ipv4Fields f;
        f.source = source();
        f.identification = static_cast<std::uint16_t>(pick(65536));
        const std::uint16_t port = pick(2) ? 7 : static_cast<std::uint16_t>(pick(65536));
        return ipv4_bytes(f, udp_bytes(f.source, kOurIp, 5555, port, pattern(pick(200))));
    }

    Bytes icmp_datagram() {
        Ipv4Fields f;
        f.protocol = 1;
        f.source = source();
        if (pick(2)) return ipv4_bytes(f, icmp_echo_bytes(1, 1, pattern(pick(300))));
        const Bytes quoted = udp_datagram();
        const auto repr = wire::IcmpRepr::destination_unreachable(
            static_cast<wire::IcmpUnreachable>(pick(6)), quoted);
        Bytes message(repr.buffer_len());
        repr.emit(message, test_checksum());
        return ipv4_bytes(f, message);
    }

    Bytes fragment() {
        Ipv4Fields f;
        f.protocol = pick(2) ? 17 : 1;
        f.identification = static_cast<std::uint16_t>(pick(64));  // few keys: they collide
        f.fragment_offset = static_cast<std::uint16_t>(pick(8192) * 8);
        f.more_fragments = pick(4) != 0;
        return ipv4_bytes(f, pattern(8 * (1 + pick(40)), byte()));
    }

    Bytes arp() {
        const auto operation = pick(2) ? wire::ArpOperation::request : wire::ArpOperation::reply;
        MacAddress sender = kPeerMac;
        sender.bytes[5] = byte();
        return arp_bytes(operation, sender, Ipv4Address(0x0a000000u | byte()), MacAddress{},
                         pick(2) ? kOurIp : Ipv4Address(random_()));
    }

    Bytes other_protocol() {
        Ipv4Fields f;
        f.protocol = pick(2) ? 6 : byte();
        return ipv4_bytes(f, pattern(pick(100)));
    }

    Packet mutate(Bytes payload, std::uint16_t ethertype) {
        const std::uint32_t flips = pick(5);
        for (std::uint32_t i = 0; i < flips && !payload.empty(); ++i) {
            // Mostly in the headers, where the parsing decisions are.
            const std::size_t at = pick(3) ? pick(std::min<std::uint32_t>(48, payload.size()))
                                           : pick(static_cast<std::uint32_t>(payload.size()));
            payload[at] = byte();
        }
        if (pick(4) == 0 && !payload.empty()) payload.resize(pick(payload.size()));
        if (ethertype == 0x0800 && payload.size() >= 20 && pick(2) == 0) {
            const std::size_t header =
                std::min<std::size_t>((payload[0] & 0x0f) * 4u, payload.size());
            wire::store_be16(&payload[10], 0);
            wire::store_be16(&payload[10], test_checksum().finish({payload.data(), header}));
        }
        return ethernet_frame(destination(), kPeerMac, ethertype, payload);
    }

    std::mt19937 random_;
};

}  // namespace

TEST_CASE("100k hostile frames: no crash, bounds hold, counters add up", "[ip][fuzz]") {
    HostUnderTest host("reassembly_memory: 256KiB\narp_cache_size: 16\nudp_queue: 32\n");
    host.learn_peer();
    RecordingTransport tcp;
    host.layer->register_transport(IpProtocol::tcp, &tcp);
    auto socket = host.layer->udp_bind(7);
    FrameFuzzer fuzzer(20240601);

    std::uint64_t peak_reassembly = 0;
    for (int i = 0; i < 100000; ++i) {
        host.device.deliver(fuzzer.next());
        if (i % 64 == 0) {
            host.device.take_sent();
            while (socket->receive()) {
            }
            tcp.received.clear();
            host.scheduler.advance(50ms);  // 78 s in all: reassembly timeouts and ARP timers run
        }
        peak_reassembly =
            std::max(peak_reassembly, host.layer->reassembler().counters().bytes_current);
    }

    const auto c = [&](const char* name) { return counter(*host.layer, name); };
    CHECK(c("eth_rx_frames") == 100000 + 1);  // + learn_peer
    CHECK(c("eth_rx_frames") == c("eth_drop_truncated") + c("eth_drop_not_for_us") +
                                    c("eth_drop_unknown_ethertype") + c("arp_drop_malformed") +
                                    c("arp_rx_requests") + c("arp_rx_replies") + c("ipv4_rx"));
    CHECK(c("ipv4_rx") == c("ipv4_drop_truncated") + c("ipv4_drop_bad_version") +
                              c("ipv4_drop_bad_header_length") + c("ipv4_drop_bad_total_length") +
                              c("ipv4_drop_bad_checksum") + c("ipv4_drop_not_for_us") +
                              c("ipv4_drop_bad_source") + c("ipv4_rx_fragments") +
                              c("ipv4_rx_delivered") - c("reasm_ok"));
    CHECK(c("ipv4_rx_delivered") == c("icmp_rx") + c("udp_rx_datagrams") + c("ipv4_rx_transport") +
                                        c("ipv4_drop_no_transport"));
    CHECK(c("icmp_rx") == c("icmp_drop_malformed") + c("icmp_drop_bad_checksum") +
                              c("icmp_drop_foreign_error") + c("icmp_rx_echo_requests") +
                              c("icmp_rx_echo_replies") + c("icmp_rx_errors") + c("icmp_rx_other"));
    CHECK(c("udp_rx_datagrams") == c("udp_drop_malformed") + c("udp_drop_bad_checksum") +
                                       c("udp_drop_no_port") + c("udp_drop_queue_full") +
                                       c("udp_rx"));
    // Every kind of frame got deep enough to matter.
    CHECK(c("ipv4_rx_fragments") > 1000);
    CHECK(c("udp_rx") > 500);
    CHECK(c("icmp_tx_echo_replies") > 100);
    CHECK(c("reasm_drop_overlap") > 0);
    CHECK(c("ipv4_rx_transport") > 0);
    // Bounds.
    CHECK(c("reasm_bytes_peak") <= 256 * 1024);
    CHECK(peak_reassembly <= 256 * 1024);
    CHECK(c("arp_cache_entries_peak") <= 16);
    CHECK(c("arp_pending_peak") <= 256);

    // Settled: after the reassembly timeout nothing is held.
    host.scheduler.advance(60s);
    CHECK(c("reasm_bytes_current") == 0);
    CHECK(c("reasm_datagrams_current") == 0);
}
