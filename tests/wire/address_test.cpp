// Ipv4Address / Ipv4Cidr text forms and arithmetic, the pseudo-header sum, parse error names.
#include <catch2/catch.hpp>
#include <unordered_set>

#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;

TEST_CASE("Ipv4Address parses dotted quads and prints them back", "[wire][address]") {
    for (const char* text : {"0.0.0.0", "10.0.0.2", "192.168.1.254", "255.255.255.255"}) {
        auto address = Ipv4Address::parse(text);
        REQUIRE(address);
        CHECK(address->to_string() == text);
    }
    auto address = Ipv4Address::parse("10.0.0.2");
    REQUIRE(address);
    CHECK(address->to_uint() == 0x0a000002u);
    CHECK(*address == Ipv4Address(10, 0, 0, 2));
    CHECK(address->bytes() == std::array<std::uint8_t, 4>{10, 0, 0, 2});
}

TEST_CASE("Ipv4Address refuses malformed text", "[wire][address]") {
    for (const char* text : {"", "10", "10.0.0", "10.0.0.2.", "10.0.0.2.1", "256.0.0.1",
                             "1.2.3.999", "010.0.0.1", "1.2.3.00", "1..2.3", " 1.2.3.4", "1.2.3.4 ",
                             "1.2.3.-4", "+1.2.3.4", "a.b.c.d", "1.2.3.4/24", "1000.2.3.4"}) {
        INFO(text);
        CHECK_FALSE(Ipv4Address::parse(text));
    }
}

TEST_CASE("Ipv4Address classifies and orders addresses", "[wire][address]") {
    CHECK(Ipv4Address(224, 0, 0, 1).is_multicast());
    CHECK(Ipv4Address(239, 255, 255, 255).is_multicast());
    CHECK_FALSE(Ipv4Address(240, 0, 0, 1).is_multicast());
    CHECK(Ipv4Address(127, 0, 0, 1).is_loopback());
    CHECK(Ipv4Address::broadcast().is_broadcast());
    CHECK(Ipv4Address::any().is_unspecified());
    CHECK(Ipv4Address(10, 0, 0, 1) < Ipv4Address(10, 0, 0, 2));
    CHECK(Ipv4Address(9, 255, 255, 255) < Ipv4Address(10, 0, 0, 0));

    std::unordered_set<Ipv4Address> seen{Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 1),
                                         Ipv4Address(10, 0, 0, 2)};
    CHECK(seen.size() == 2);

    std::uint8_t raw[4] = {192, 0, 2, 7};
    CHECK(Ipv4Address::from_bytes(raw) == Ipv4Address(192, 0, 2, 7));
    std::uint8_t written[4] = {};
    Ipv4Address(198, 51, 100, 9).write_to(written);
    CHECK(written[0] == 198);
    CHECK(written[3] == 9);
}

TEST_CASE("Ipv4Cidr parses prefixes and derives the subnet", "[wire][address]") {
    auto cidr = Ipv4Cidr::parse("10.0.0.2/24");
    REQUIRE(cidr);
    CHECK(cidr->address == Ipv4Address(10, 0, 0, 2));
    CHECK(cidr->prefix_length == 24);
    CHECK(cidr->netmask() == Ipv4Address(255, 255, 255, 0));
    CHECK(cidr->network() == Ipv4Address(10, 0, 0, 0));
    CHECK(cidr->broadcast() == Ipv4Address(10, 0, 0, 255));
    CHECK(cidr->contains(Ipv4Address(10, 0, 0, 200)));
    CHECK_FALSE(cidr->contains(Ipv4Address(10, 0, 1, 1)));
    CHECK(cidr->to_string() == "10.0.0.2/24");

    auto everything = Ipv4Cidr::parse("0.0.0.0/0");
    REQUIRE(everything);
    CHECK(everything->netmask() == Ipv4Address::any());
    CHECK(everything->contains(Ipv4Address(203, 0, 113, 5)));

    auto host = Ipv4Cidr::parse("192.0.2.1");
    REQUIRE(host);
    CHECK(host->prefix_length == 32);
    CHECK(host->netmask() == Ipv4Address::broadcast());
    CHECK_FALSE(host->contains(Ipv4Address(192, 0, 2, 2)));

    auto odd = Ipv4Cidr::parse("172.16.5.4/12");
    REQUIRE(odd);
    CHECK(odd->network() == Ipv4Address(172, 16, 0, 0));
    CHECK(odd->broadcast() == Ipv4Address(172, 31, 255, 255));

    for (const char* text : {"10.0.0.2/", "10.0.0.2/33", "10.0.0.2/024", "10.0.0.2/-1",
                             "10.0.0.2/24x", "/24", "10.0.0/24", "10.0.0.2//24"}) {
        INFO(text);
        CHECK_FALSE(Ipv4Cidr::parse(text));
    }
}

TEST_CASE("pseudo_header_sum equals the sum of the RFC 793 pseudo-header bytes",
          "[wire][address]") {
    wire_test::Rng rng(42);
    for (int round = 0; round < 1000; ++round) {
        const Ipv4Address source(static_cast<std::uint32_t>(rng.next()));
        const Ipv4Address destination(static_cast<std::uint32_t>(rng.next()));
        const auto protocol = static_cast<IpProtocol>(rng.byte());
        const auto length = static_cast<std::uint16_t>(rng.next());
        std::uint8_t pseudo[12] = {};
        source.write_to(pseudo);
        destination.write_to(pseudo + 4);
        pseudo[9] = static_cast<std::uint8_t>(protocol);
        store_be16(pseudo + 10, length);
        const auto& sum = wire_test::checksum();
        CHECK(netloom::Checksum::fold(pseudo_header_sum(source, destination, protocol, length)) ==
              netloom::Checksum::fold(sum.partial(pseudo)));
    }
}

TEST_CASE("parse errors have distinct stable names", "[wire][address]") {
    std::unordered_set<std::string_view> names;
    for (auto error :
         {ParseError::ok, ParseError::truncated, ParseError::length_beyond_buffer,
          ParseError::bad_length, ParseError::bad_version, ParseError::bad_header_length,
          ParseError::bad_data_offset, ParseError::bad_option, ParseError::bad_ethertype,
          ParseError::unsupported}) {
        names.insert(to_string(error));
    }
    CHECK(names.size() == 10);
    CHECK(to_string(ParseError::length_beyond_buffer) == "length_beyond_buffer");
}
