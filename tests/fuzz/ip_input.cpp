// Fuzzes the ipv4 plugin's receive path (plugins/ip: Ethernet demux, ARP, IPv4 header checks,
// fragment reassembly, ICMP, UDP delivery) with a sequence of frames through a fake device, as
// tests/ip does. The input is a list of steps, each a control byte then its data:
//   control & 7 == 0: the virtual clock advances by the next two bytes, in milliseconds;
//   otherwise a frame of the length in the next two bytes (capped at 1,600) follows, where
//   bit 3 wraps it in an Ethernet header to our MAC (bit 4: ARP, else IPv4), bit 5 fixes the
//   IPv4 header checksum and bit 6 the ICMP or UDP checksum, so the deeper layers are reached.
// Checked after every step: the receive-side counter equations of plugins/ip/ip_counters.hpp
// hold; reassembly memory stays within `reassembly_memory`, the ARP cache within
// `arp_cache_size`; at the end, once the reassembly timeout passed, nothing is held.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "ip_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kReassemblyMemory = 16 * 1024;
constexpr std::uint64_t kArpCacheSize = 8;

class Counters {
public:
    explicit Counters(const CounterSource& source) {
        source.visit_counters([&](std::string_view name, std::uint64_t value) {
            values_.emplace_back(std::string(name), value);
        });
    }
    std::uint64_t operator()(std::string_view name) const {
        for (const auto& [n, v] : values_)
            if (n == name) return v;
        fuzz::check_failed(std::string(name).c_str(), __FILE__, __LINE__);  // no such counter
    }

private:
    std::vector<std::pair<std::string, std::uint64_t>> values_;
};

void check_invariants(const ip::Ipv4Layer& layer) {
    const Counters c(layer);
    FUZZ_CHECK(c("eth_rx_frames") == c("eth_drop_truncated") + c("eth_drop_not_for_us") +
                                         c("eth_drop_unknown_ethertype") + c("arp_drop_malformed") +
                                         c("arp_rx_requests") + c("arp_rx_replies") + c("ipv4_rx"));
    FUZZ_CHECK(c("ipv4_rx") + c("reasm_ok") ==
               c("ipv4_drop_truncated") + c("ipv4_drop_bad_version") +
                   c("ipv4_drop_bad_header_length") + c("ipv4_drop_bad_total_length") +
                   c("ipv4_drop_bad_checksum") + c("ipv4_drop_not_for_us") +
                   c("ipv4_drop_bad_source") + c("ipv4_rx_fragments") + c("ipv4_rx_delivered"));
    FUZZ_CHECK(c("ipv4_rx_delivered") == c("icmp_rx") + c("udp_rx_datagrams") +
                                             c("ipv4_rx_transport") + c("ipv4_drop_no_transport"));
    FUZZ_CHECK(c("icmp_rx") == c("icmp_drop_malformed") + c("icmp_drop_bad_checksum") +
                                   c("icmp_drop_foreign_error") + c("icmp_rx_echo_requests") +
                                   c("icmp_rx_echo_replies") + c("icmp_rx_errors") +
                                   c("icmp_rx_other"));
    FUZZ_CHECK(c("udp_rx_datagrams") == c("udp_drop_malformed") + c("udp_drop_bad_checksum") +
                                            c("udp_drop_no_port") + c("udp_drop_queue_full") +
                                            c("udp_rx"));
    FUZZ_CHECK(c("reasm_bytes_peak") <= kReassemblyMemory);
    FUZZ_CHECK(c("reasm_bytes_current") <= kReassemblyMemory);
    FUZZ_CHECK(c("arp_cache_entries_peak") <= kArpCacheSize);
}

/// Makes `datagram` (an IPv4 datagram from its header on, possibly damaged) pass the checks the
/// fuzzer would rarely satisfy by chance: the header checksum and the ICMP or UDP one.
void fix_checksums(std::vector<std::uint8_t>& datagram, bool header, bool transport) {
    if (datagram.size() < 20) return;
    const std::size_t ihl = std::min<std::size_t>((datagram[0] & 0x0fu) * 4u, datagram.size());
    if (header && ihl >= 12) {
        wire::store_be16(&datagram[10], 0);
        wire::store_be16(&datagram[10], test_checksum().finish({datagram.data(), ihl}));
    }
    if (!transport) return;
    const std::size_t total = std::min<std::size_t>(wire::load_be16(&datagram[2]), datagram.size());
    if (total <= ihl) return;
    const std::span<std::uint8_t> body(datagram.data() + ihl, total - ihl);
    if (datagram[9] == 1 && body.size() >= 8) {
        wire::store_be16(&body[2], 0);
        wire::store_be16(&body[2], test_checksum().finish(body));
    } else if (datagram[9] == 17 && body.size() >= 8) {
        wire::UdpRepr::fill_checksum(body, Ipv4Address::from_bytes(&datagram[12]),
                                     Ipv4Address::from_bytes(&datagram[16]), test_checksum());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    HostUnderTest host("reassembly_memory: 16KiB\narp_cache_size: 8\nudp_queue: 4\n");
    host.learn_peer();
    RecordingTransport tcp;
    host.layer->register_transport(IpProtocol::tcp, &tcp);
    auto socket = host.layer->udp_bind(7);

    std::size_t at = 0;
    const auto take16 = [&] {
        std::uint16_t v = 0;
        for (int i = 0; i < 2 && at < size; ++i)
            v = static_cast<std::uint16_t>(v << 8 | data[at++]);
        return v;
    };
    while (at < size) {
        const std::uint8_t control = data[at++];
        if ((control & 7) == 0) {
            host.scheduler.advance(std::chrono::milliseconds(take16()));
        } else {
            const std::size_t length = std::min<std::size_t>({take16(), 1600, size - at});
            std::vector<std::uint8_t> bytes(data + at, data + at + length);
            at += length;
            const bool arp = (control & 0x10) != 0;
            if (!arp) fix_checksums(bytes, (control & 0x20) != 0, (control & 0x40) != 0);
            Packet frame = (control & 0x08)
                               ? ethernet_frame(kOurMac, kPeerMac, arp ? 0x0806 : 0x0800, bytes)
                               : Packet::copy_of(bytes);
            host.device.deliver(std::move(frame));
        }
        host.scheduler.run_until_idle();
        host.device.take_sent();
        while (socket->receive()) {
        }
        tcp.received.clear();
        check_invariants(*host.layer);
    }
    // RFC 791 / RFC 1122 3.3.2: an incomplete datagram is dropped at the reassembly timeout.
    host.scheduler.advance(120s);
    const Counters c(*host.layer);
    FUZZ_CHECK(c("reasm_bytes_current") == 0);
    FUZZ_CHECK(c("reasm_datagrams_current") == 0);
    return 0;
}
