// Every prefix of valid packets, each copied into a buffer of exactly that size: every parser
// must either refuse it with the expected reason or accept it and agree with the full parse, and
// never read past the end (AddressSanitizer checks that part in the sanitized build).
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "wire_dissect.hpp"

using namespace netloom::wire;
using wire_test::exact_copy;
using wire_test::read_all;

namespace {

// Runs Ethernet then IPv4 then the transport over every prefix of a captured IPv4 frame.
template <class TransportView>
void check_ipv4_frame_prefixes(std::span<const std::uint8_t> frame) {
    const auto full_ip = Ipv4View::parse(EthernetView::parse(frame)->payload());
    REQUIRE(full_ip);
    const auto full_transport = TransportView::parse(full_ip->payload());
    REQUIRE(full_transport);
    const auto ip_digest = read_all(*full_ip);
    const auto transport_digest = read_all(*full_transport);
    const std::size_t total = full_ip->total_length();

    for (std::size_t length = 0; length <= frame.size(); ++length) {
        INFO("prefix length " << length);
        const auto bytes = exact_copy(frame, length);
        auto ethernet = EthernetView::parse(bytes);
        if (length < EthernetView::kHeaderLength) {
            CHECK(ethernet.error() == ParseError::truncated);
            continue;
        }
        REQUIRE(ethernet);
        read_all(*ethernet);
        auto ip = Ipv4View::parse(ethernet->payload());
        const std::size_t ip_length = length - EthernetView::kHeaderLength;
        if (ip_length < Ipv4View::kMinHeaderLength) {
            CHECK(ip.error() == ParseError::truncated);
        } else if (ip_length < total) {
            CHECK(ip.error() == ParseError::length_beyond_buffer);
        } else {
            REQUIRE(ip);
            CHECK(read_all(*ip) == ip_digest);
            auto transport = TransportView::parse(ip->payload());
            REQUIRE(transport);
            CHECK(read_all(*transport) == transport_digest);
        }
    }
}

}  // namespace

TEST_CASE("Every prefix of captured frames parses consistently", "[wire][truncation]") {
    check_ipv4_frame_prefixes<IcmpView>(wire_test::kIcmpEchoFrame);
    check_ipv4_frame_prefixes<UdpView>(wire_test::kUdpDnsFrame);
    check_ipv4_frame_prefixes<TcpView>(wire_test::kTcpSynFrame);

    const auto& arp_frame = wire_test::kArpRequestFrame;
    const auto full = read_all(*ArpView::parse(std::span(arp_frame).subspan(14)));
    for (std::size_t length = 14; length <= arp_frame.size(); ++length) {
        INFO("prefix length " << length);
        const auto bytes = exact_copy(arp_frame, length);
        auto arp = ArpView::parse(EthernetView::parse(bytes)->payload());
        if (length < 14 + ArpView::kLength) {
            CHECK(arp.error() == ParseError::truncated);
        } else {
            REQUIRE(arp);
            CHECK(read_all(*arp) == full);
        }
    }
}

TEST_CASE("Every prefix of a TCP segment: truncated, bad offset, then whole",
          "[wire][truncation]") {
    // The Linux SYN's header plus 30 bytes of payload.
    std::vector<std::uint8_t> segment(wire_test::kTcpSynFrame.begin() + 34,
                                      wire_test::kTcpSynFrame.end());
    for (std::uint8_t i = 0; i < 30; ++i) segment.push_back(i);

    for (std::size_t length = 0; length <= segment.size(); ++length) {
        INFO("prefix length " << length);
        const auto bytes = exact_copy(segment, length);
        auto tcp = TcpView::parse(bytes);
        if (length < 20) {
            CHECK(tcp.error() == ParseError::truncated);
        } else if (length < 40) {
            CHECK(tcp.error() == ParseError::bad_data_offset);
        } else {
            REQUIRE(tcp);
            read_all(*tcp);
            CHECK(tcp->payload().size() == length - 40);
            auto repr = TcpRepr::parse(*tcp);
            REQUIRE(repr);
            CHECK(repr->options.mss == 1460);
            CHECK(repr->payload.size() == length - 40);
        }
    }
}

TEST_CASE("Every prefix of an options area is accepted only at an option boundary",
          "[wire][truncation]") {
    // Linux SYN options: MSS [0,4) SACK-permitted [4,6) timestamps [6,16) NOP [16,17)
    // window scale [17,20). A cut inside an option leaves its length running past the area.
    const auto area = std::span(wire_test::kTcpSynFrame).subspan(54, 20);
    const std::set<std::size_t> boundaries = {0, 4, 6, 16, 17, 20};
    for (std::size_t length = 0; length <= area.size(); ++length) {
        INFO("prefix length " << length);
        const auto bytes = exact_copy(area, length);
        auto options = parse_tcp_options(bytes);
        if (boundaries.count(length)) {
            REQUIRE(options);
            CHECK(options->mss.has_value() == (length >= 4));
            CHECK(options->sack_permitted == (length >= 6));
            CHECK(options->timestamps.has_value() == (length >= 16));
            CHECK(options->window_scale.has_value() == (length >= 20));
        } else {
            CHECK(options.error() == ParseError::bad_option);
        }
    }
}

TEST_CASE("Every prefix of UDP, ICMP and ARP messages", "[wire][truncation]") {
    const auto udp = std::span(wire_test::kUdpDnsFrame).subspan(34);  // 37 bytes
    for (std::size_t length = 0; length <= udp.size(); ++length) {
        INFO("UDP prefix length " << length);
        const auto bytes = exact_copy(udp, length);
        auto view = UdpView::parse(bytes);
        if (length < 8)
            CHECK(view.error() == ParseError::truncated);
        else if (length < udp.size())
            CHECK(view.error() == ParseError::length_beyond_buffer);
        else
            CHECK(read_all(*view) == read_all(*UdpView::parse(udp)));
    }

    // An ICMP port unreachable quoting the DNS query: 8 + 20 + 8 bytes.
    const auto offending = std::span(wire_test::kUdpDnsFrame).subspan(14);
    const auto repr = IcmpRepr::destination_unreachable(IcmpUnreachable::port, offending);
    std::vector<std::uint8_t> message(repr.buffer_len());
    REQUIRE(repr.emit(message, wire_test::checksum()) == 36);
    for (std::size_t length = 0; length <= message.size(); ++length) {
        INFO("ICMP prefix length " << length);
        const auto bytes = exact_copy(message, length);
        auto view = IcmpView::parse(bytes);
        if (length < 8) {
            CHECK(view.error() == ParseError::truncated);
            continue;
        }
        REQUIRE(view);
        read_all(*view);
        CHECK(view->payload().size() == length - 8);
        auto quote = view->quoted();
        if (length < message.size())
            CHECK(quote.error() == ParseError::truncated);
        else
            CHECK(quote->destination_port() == 53);
    }

    const auto arp = std::span(wire_test::kArpRequestFrame).subspan(14, 28);
    for (std::size_t length = 0; length <= arp.size(); ++length) {
        const auto bytes = exact_copy(arp, length);
        CHECK(ArpView::parse(bytes).ok() == (length == arp.size()));
    }
}
