// IPv4 views and Reprs: captured-style headers, every refusal reason, fragments, options, emit.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/ipv4.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;
using wire_test::checksum;

namespace {

std::vector<std::uint8_t> datagram_of(std::span<const std::uint8_t> frame) {
    auto ip = frame.subspan(EthernetView::kHeaderLength);
    return {ip.begin(), ip.end()};
}

}  // namespace

TEST_CASE("IPv4 view reads the header of a ping", "[wire][ipv4]") {
    const auto bytes = datagram_of(wire_test::kIcmpEchoFrame);
    auto ip = Ipv4View::parse(bytes);
    REQUIRE(ip);
    CHECK(ip->version() == 4);
    CHECK(ip->header_length() == 20);
    CHECK(ip->dscp() == 0);
    CHECK(ip->ecn() == 0);
    CHECK(ip->total_length() == 84);
    CHECK(ip->identification() == 0x5c1e);
    CHECK_FALSE(ip->reserved_flag());
    CHECK(ip->dont_fragment());
    CHECK_FALSE(ip->more_fragments());
    CHECK(ip->fragment_offset() == 0);
    CHECK_FALSE(ip->is_fragment());
    CHECK(ip->ttl() == 64);
    CHECK(ip->protocol() == IpProtocol::icmp);
    CHECK(ip->checksum() == 0xca88);
    CHECK(ip->source() == Ipv4Address(10, 0, 0, 2));
    CHECK(ip->destination() == Ipv4Address(10, 0, 0, 1));
    CHECK(ip->options().empty());
    CHECK(ip->header().size() == 20);
    CHECK(ip->payload().size() == 64);
    CHECK(ip->payload().data() == bytes.data() + 20);
    CHECK(ip->verify_checksum(checksum()));
}

TEST_CASE("IPv4 checksum verification catches any single-byte change", "[wire][ipv4]") {
    const auto original = datagram_of(wire_test::kTcpSynFrame);
    for (std::size_t offset = 0; offset < 20; ++offset) {
        if (offset == 0 || offset == 2 || offset == 3) continue;  // would fail parse instead
        auto bytes = original;
        bytes[offset] ^= 0x01;
        auto ip = Ipv4View::parse(bytes);
        REQUIRE(ip);
        INFO("offset " << offset);
        CHECK_FALSE(ip->verify_checksum(checksum()));
    }
    // Payload bytes are not covered by the IPv4 header checksum.
    auto bytes = original;
    bytes[30] ^= 0xff;
    CHECK(Ipv4View::parse(bytes)->verify_checksum(checksum()));
}

TEST_CASE("IPv4 view ends at the total length, excluding link padding", "[wire][ipv4]") {
    auto bytes = datagram_of(wire_test::kTcpSynFrame);
    const std::size_t total = bytes.size();
    bytes.resize(total + 10, 0);  // what a driver hands up after a padded short frame
    auto ip = Ipv4View::parse(bytes);
    REQUIRE(ip);
    CHECK(ip->bytes().size() == total);
    CHECK(ip->payload().size() == total - 20);
}

TEST_CASE("IPv4 refuses malformed headers with the reason", "[wire][ipv4]") {
    const auto original = datagram_of(wire_test::kUdpDnsFrame);
    auto with = [&](auto change) {
        auto bytes = original;
        change(bytes);
        return Ipv4View::parse(bytes).error();
    };
    CHECK(Ipv4View::parse(std::span(original).first(19)).error() == ParseError::truncated);
    CHECK(with([](auto& b) { b[0] = 0x65; }) == ParseError::bad_version);
    CHECK(with([](auto& b) { b[0] = 0x05; }) == ParseError::bad_version);
    CHECK(with([](auto& b) { b[0] = 0x44; }) == ParseError::bad_header_length);
    CHECK(with([](auto& b) { b[0] = 0x40; }) == ParseError::bad_header_length);
    // IHL 15 = 60 bytes, but the datagram is only 57 long.
    CHECK(with([](auto& b) { b[0] = 0x4f; }) == ParseError::bad_header_length);
    CHECK(with([](auto& b) { store_be16(b.data() + 2, 19); }) == ParseError::bad_header_length);
    CHECK(with([](auto& b) { store_be16(b.data() + 2, 58); }) == ParseError::length_beyond_buffer);
    CHECK(with([](auto& b) { store_be16(b.data() + 2, 0xffff); }) ==
          ParseError::length_beyond_buffer);
    // A total length of exactly the header is a valid, empty datagram.
    auto empty = original;
    store_be16(empty.data() + 2, 20);
    auto ip = Ipv4View::parse(empty);
    REQUIRE(ip);
    CHECK(ip->payload().empty());
}

TEST_CASE("IPv4 options are exposed raw and skipped for the payload", "[wire][ipv4]") {
    // IHL 6 with a Router Alert option (RFC 2113: 0x94 0x04 0x00 0x00), then 4 payload bytes.
    std::vector<std::uint8_t> bytes = {0x46, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02,
                                       0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0xe0, 0x00, 0x00, 0x16,
                                       0x94, 0x04, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef};
    store_be16(bytes.data() + 10, checksum().finish(std::span(bytes).first(24)));
    auto ip = Ipv4View::parse(bytes);
    REQUIRE(ip);
    CHECK(ip->header_length() == 24);
    REQUIRE(ip->options().size() == 4);
    CHECK(ip->options()[0] == 0x94);
    REQUIRE(ip->payload().size() == 4);
    CHECK(ip->payload()[0] == 0xde);
    CHECK(ip->verify_checksum(checksum()));
    CHECK(ip->protocol() == IpProtocol{2});  // IGMP: not in the enum, still carried
}

TEST_CASE("IPv4 fragment fields", "[wire][ipv4]") {
    auto bytes = datagram_of(wire_test::kUdpDnsFrame);
    store_be16(bytes.data() + 6, 0x2000 | 185);  // MF, offset 185 * 8 = 1480
    auto ip = Ipv4View::parse(bytes);
    REQUIRE(ip);
    CHECK(ip->more_fragments());
    CHECK_FALSE(ip->dont_fragment());
    CHECK(ip->fragment_offset() == 1480);
    CHECK(ip->is_fragment());

    store_be16(bytes.data() + 6, 0x1fff);  // last fragment at the largest offset
    ip = Ipv4View::parse(bytes);
    REQUIRE(ip);
    CHECK_FALSE(ip->more_fragments());
    CHECK(ip->fragment_offset() == 65528);
    CHECK(ip->is_fragment());

    store_be16(bytes.data() + 6, 0x8000);
    CHECK(Ipv4View::parse(bytes)->reserved_flag());
}

TEST_CASE("IPv4 Repr re-emits captured headers byte for byte", "[wire][ipv4]") {
    for (auto frame : {std::span<const std::uint8_t>(wire_test::kIcmpEchoFrame),
                       std::span<const std::uint8_t>(wire_test::kUdpDnsFrame),
                       std::span<const std::uint8_t>(wire_test::kTcpSynFrame)}) {
        const auto bytes = datagram_of(frame);
        auto repr = Ipv4Repr::parse(*Ipv4View::parse(bytes));
        REQUIRE(repr);
        std::array<std::uint8_t, 20> out{};
        REQUIRE(repr->emit(out, checksum()));
        CHECK(wire_test::same_bytes(out, std::span(bytes).first(20)));
    }
}

TEST_CASE("IPv4 Repr round-trips every field", "[wire][ipv4]") {
    Ipv4Repr repr;
    repr.source = Ipv4Address(192, 0, 2, 1);
    repr.destination = Ipv4Address(198, 51, 100, 200);
    repr.protocol = IpProtocol::udp;
    repr.payload_length = 1000;
    repr.ttl = 3;
    repr.dscp = 46;  // EF
    repr.ecn = 2;    // ECT(0)
    repr.identification = 0xbeef;
    repr.dont_fragment = false;
    repr.more_fragments = true;
    repr.fragment_offset = 2960;

    std::vector<std::uint8_t> datagram(20 + 1000, 0);
    REQUIRE(repr.emit(datagram, checksum()));
    auto view = Ipv4View::parse(datagram);
    REQUIRE(view);
    CHECK(view->verify_checksum(checksum()));
    auto parsed = Ipv4Repr::parse(*view);
    REQUIRE(parsed);
    CHECK(*parsed == repr);
}

TEST_CASE("IPv4 Repr refuses what it cannot encode", "[wire][ipv4]") {
    Ipv4Repr repr;
    repr.payload_length = 10;
    std::array<std::uint8_t, 20> out{};
    CHECK_FALSE(repr.emit(std::span(out).first(19), checksum()));
    CHECK(out == std::array<std::uint8_t, 20>{});

    auto bad = repr;
    bad.payload_length = 65516;  // 20 + 65516 > 65535
    CHECK_FALSE(bad.emit(out, checksum()));
    bad = repr;
    bad.fragment_offset = 1481;
    CHECK_FALSE(bad.emit(out, checksum()));
    bad = repr;
    bad.dscp = 64;
    CHECK_FALSE(bad.emit(out, checksum()));
    bad = repr;
    bad.payload_length = 65515;  // the largest that fits
    CHECK(bad.emit(out, checksum()));
    CHECK(load_be16(out.data() + 2) == 0xffff);
}
