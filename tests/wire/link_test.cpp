// Ethernet II and ARP: hand-built frames, refusals, emit/parse round trips.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/wire/arp.hpp"
#include "netloom/wire/ethernet.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;
using netloom::MacAddress;
using wire_test::kArpRequestFrame;

namespace {

const MacAddress kMacA{{0x02, 0, 0, 0, 0, 0x02}};  // 10.0.0.2
const MacAddress kMacB{{0x02, 0, 0, 0, 0, 0x01}};  // 10.0.0.1

}  // namespace

TEST_CASE("Ethernet view reads an ARP broadcast frame", "[wire][ethernet]") {
    auto frame = EthernetView::parse(kArpRequestFrame);
    REQUIRE(frame);
    CHECK(frame->destination() == MacAddress::broadcast());
    CHECK(frame->source() == kMacA);
    CHECK(frame->ethertype() == EtherType::arp);
    CHECK(frame->header_length() == 14);
    // Ethernet cannot tell its payload from padding: all 46 bytes are handed up.
    CHECK(frame->payload().size() == 46);
    CHECK(frame->payload().data() == kArpRequestFrame.data() + 14);
}

TEST_CASE("Ethernet refuses short frames and 802.3 length fields", "[wire][ethernet]") {
    CHECK(EthernetView::parse(std::span(kArpRequestFrame).first(13)).error() ==
          ParseError::truncated);
    CHECK(EthernetView::parse(std::span(kArpRequestFrame).first(14)));  // header only is fine

    std::vector<std::uint8_t> frame(kArpRequestFrame.begin(), kArpRequestFrame.end());
    for (std::uint16_t type : {0x0000, 0x002e, 0x05dc, 0x05ff}) {
        store_be16(frame.data() + 12, type);
        INFO(type);
        CHECK(EthernetView::parse(frame).error() == ParseError::bad_ethertype);
    }
    store_be16(frame.data() + 12, 0x0600);
    CHECK(EthernetView::parse(frame));
}

TEST_CASE("Ethernet header emits what it parsed", "[wire][ethernet]") {
    auto frame = EthernetView::parse(kArpRequestFrame);
    REQUIRE(frame);
    auto repr = EthernetRepr::parse(*frame);
    REQUIRE(repr);
    CHECK(repr->ethertype == EtherType::arp);

    std::array<std::uint8_t, 14> out{};
    REQUIRE(repr->emit(out));
    CHECK(wire_test::same_bytes(out, std::span(kArpRequestFrame).first(14)));

    std::array<std::uint8_t, 13> small{};
    CHECK_FALSE(repr->emit(small));
    CHECK(small == std::array<std::uint8_t, 13>{});  // nothing written

    const EthernetRepr ipv6{kMacB, kMacA, EtherType::ipv6};
    REQUIRE(ipv6.emit(out));
    auto again = EthernetView::parse(out);
    REQUIRE(again);
    CHECK(*EthernetRepr::parse(*again) == ipv6);
}

TEST_CASE("ARP view reads a request", "[wire][arp]") {
    auto arp = ArpView::parse(EthernetView::parse(kArpRequestFrame)->payload());
    REQUIRE(arp);
    CHECK(arp->hardware_type() == 1);
    CHECK(arp->protocol_type() == 0x0800);
    CHECK(arp->hardware_length() == 6);
    CHECK(arp->protocol_length() == 4);
    CHECK(arp->operation() == 1);
    CHECK(arp->sender_mac() == kMacA);
    CHECK(arp->sender_ip() == Ipv4Address(10, 0, 0, 2));
    CHECK(arp->target_mac() == MacAddress{});
    CHECK(arp->target_ip() == Ipv4Address(10, 0, 0, 1));
    CHECK(arp->bytes().size() == 28);  // the padding is not ARP's

    auto repr = ArpRepr::parse(*arp);
    REQUIRE(repr);
    CHECK(repr->operation == ArpOperation::request);
    std::array<std::uint8_t, 28> out{};
    REQUIRE(repr->emit(out));
    CHECK(wire_test::same_bytes(out, std::span(kArpRequestFrame).subspan(14, 28)));
}

TEST_CASE("ARP refuses anything but Ethernet/IPv4", "[wire][arp]") {
    const auto original = std::span(kArpRequestFrame).subspan(14, 28);
    CHECK(ArpView::parse(original.first(27)).error() == ParseError::truncated);

    struct Mutation {
        std::size_t offset;
        std::uint8_t value;
    };
    for (auto [offset, value] : {Mutation{1, 6},      // hardware type 6: IEEE 802
                                 Mutation{2, 0x86},   // protocol type 0x8600
                                 Mutation{3, 0xdd},   // protocol type 0x08dd
                                 Mutation{4, 8},      // hardware length 8
                                 Mutation{5, 16}}) {  // protocol length 16 (IPv6 size)
        std::vector<std::uint8_t> bytes(original.begin(), original.end());
        bytes[offset] = value;
        INFO("offset " << offset);
        CHECK(ArpView::parse(bytes).error() == ParseError::unsupported);
    }

    // Operations other than request/reply (3 = RARP request) parse as a view, not as a Repr.
    std::vector<std::uint8_t> rarp(original.begin(), original.end());
    rarp[7] = 3;
    auto view = ArpView::parse(rarp);
    REQUIRE(view);
    CHECK(view->operation() == 3);
    CHECK(ArpRepr::parse(*view).error() == ParseError::unsupported);
}

TEST_CASE("ARP reply round-trips through emit and parse", "[wire][arp]") {
    const ArpRepr reply{ArpOperation::reply, kMacB, Ipv4Address(10, 0, 0, 1), kMacA,
                        Ipv4Address(10, 0, 0, 2)};
    std::vector<std::uint8_t> out(ArpRepr::buffer_len() + 5, 0xee);
    REQUIRE(reply.emit(out));
    CHECK(out[28] == 0xee);  // writes exactly 28 bytes
    auto view = ArpView::parse(out);
    REQUIRE(view);
    auto parsed = ArpRepr::parse(*view);
    REQUIRE(parsed);
    CHECK(*parsed == reply);

    std::array<std::uint8_t, 27> small{};
    CHECK_FALSE(reply.emit(small));
}
