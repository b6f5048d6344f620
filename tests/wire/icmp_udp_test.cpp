// ICMPv4 and UDP: captured-style messages, checksums, error quotes, emit/parse round trips.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/wire/icmp.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/udp.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;
using wire_test::checksum;

namespace {

const Ipv4Address kHostA(10, 0, 0, 2);
const Ipv4Address kHostB(10, 0, 0, 1);

std::vector<std::uint8_t> transport_of(std::span<const std::uint8_t> frame) {
    auto bytes = frame.subspan(14 + 20);
    return {bytes.begin(), bytes.end()};
}

std::vector<std::uint8_t> ip_of(std::span<const std::uint8_t> frame) {
    auto bytes = frame.subspan(14);
    return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST_CASE("ICMP view reads a ping", "[wire][icmp]") {
    const auto bytes = transport_of(wire_test::kIcmpEchoFrame);
    auto icmp = IcmpView::parse(bytes);
    REQUIRE(icmp);
    CHECK(icmp->type() == IcmpType::echo_request);
    CHECK(icmp->code() == 0);
    CHECK(icmp->checksum() == 0x75ba);
    CHECK(icmp->echo_identifier() == 0x1234);
    CHECK(icmp->echo_sequence() == 1);
    CHECK(icmp->rest_of_header() == 0x12340001u);
    CHECK(icmp->payload().size() == 56);
    CHECK(icmp->payload()[16] == 0x10);
    CHECK(icmp->verify_checksum(checksum()));
    CHECK(icmp->quoted().error() == ParseError::unsupported);

    auto corrupted = bytes;
    corrupted.back() ^= 0x40;
    CHECK_FALSE(IcmpView::parse(corrupted)->verify_checksum(checksum()));
    CHECK(IcmpView::parse(std::span(bytes).first(7)).error() == ParseError::truncated);
}

TEST_CASE("ICMP echo re-emits byte for byte and answers with a reply", "[wire][icmp]") {
    const auto bytes = transport_of(wire_test::kIcmpEchoFrame);
    auto request = IcmpRepr::parse(*IcmpView::parse(bytes));
    REQUIRE(request);
    CHECK(request->echo_identifier() == 0x1234);
    CHECK(request->echo_sequence() == 1);

    std::vector<std::uint8_t> out(request->buffer_len());
    REQUIRE(request->emit(out, checksum()) == bytes.size());
    CHECK(out == bytes);

    // The zero-copy reply: the data already sits after the header in the very same buffer.
    auto in_place = bytes;
    const auto reply = IcmpRepr::echo_reply(request->echo_identifier(), request->echo_sequence(),
                                            std::span(in_place).subspan(8));
    REQUIRE(reply.emit(in_place, checksum()) == in_place.size());
    auto view = IcmpView::parse(in_place);
    REQUIRE(view);
    CHECK(view->type() == IcmpType::echo_reply);
    CHECK(view->echo_identifier() == 0x1234);
    CHECK(view->echo_sequence() == 1);
    CHECK(wire_test::same_bytes(view->payload(), std::span(bytes).subspan(8)));
    CHECK(view->verify_checksum(checksum()));
    // RFC 1624 view of the same fact: only the type word changed (0x0800 -> 0x0000).
    CHECK(view->checksum() == netloom::Checksum::update16(0x75ba, 0x0800, 0x0000));

    std::vector<std::uint8_t> small(reply.buffer_len() - 1);
    CHECK(reply.emit(small, checksum()) == 0);
}

TEST_CASE("ICMP port unreachable quotes the header and 8 bytes", "[wire][icmp]") {
    const auto offending = ip_of(wire_test::kUdpDnsFrame);
    const auto repr = IcmpRepr::destination_unreachable(IcmpUnreachable::port, offending);
    CHECK(repr.data.size() == 28);
    std::vector<std::uint8_t> out(repr.buffer_len());
    REQUIRE(repr.emit(out, checksum()) == 36);

    auto view = IcmpView::parse(out);
    REQUIRE(view);
    CHECK(view->type() == IcmpType::destination_unreachable);
    CHECK(view->code() == 3);
    CHECK(view->rest_of_header() == 0);
    CHECK(view->verify_checksum(checksum()));
    auto quote = view->quoted();
    REQUIRE(quote);
    CHECK(quote->source == kHostA);
    CHECK(quote->destination == kHostB);
    CHECK(quote->protocol == IpProtocol::udp);
    CHECK(quote->header.size() == 20);
    CHECK(quote->source_port() == 53535);
    CHECK(quote->destination_port() == 53);
}

TEST_CASE("ICMP fragmentation needed carries the next-hop MTU", "[wire][icmp]") {
    const auto offending = ip_of(wire_test::kTcpSynFrame);
    const auto repr =
        IcmpRepr::destination_unreachable(IcmpUnreachable::fragmentation_needed, offending, 1400);
    std::vector<std::uint8_t> out(repr.buffer_len());
    REQUIRE(repr.emit(out, checksum()) == out.size());
    auto view = IcmpView::parse(out);
    REQUIRE(view);
    CHECK(view->code() == 4);
    CHECK(view->next_hop_mtu() == 1400);
    auto quote = view->quoted();
    REQUIRE(quote);
    CHECK(quote->protocol == IpProtocol::tcp);
    CHECK(quote->source_port() == 43210);
    CHECK(quote->destination_port() == 5201);
    // The MTU is only sent with code 4.
    CHECK(
        IcmpRepr::destination_unreachable(IcmpUnreachable::host, offending, 1400).rest_of_header ==
        0);
}

TEST_CASE("ICMP time exceeded quotes IP options too", "[wire][icmp]") {
    // IHL 6: the quote must follow the header length, not assume 20 bytes.
    std::vector<std::uint8_t> offending = {0x46, 0x00, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x01,
                                           0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
                                           0x00, 0x09, 0x94, 0x04, 0x00, 0x00, 0x30, 0x39, 0x00,
                                           0x07, 0x00, 0x0c, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd};
    const auto repr = IcmpRepr::time_exceeded(IcmpTimeExceeded::ttl, offending);
    CHECK(repr.data.size() == 32);
    std::vector<std::uint8_t> out(repr.buffer_len());
    REQUIRE(repr.emit(out, checksum()) == out.size());
    auto quote = IcmpView::parse(out)->quoted();
    REQUIRE(quote);
    CHECK(quote->header.size() == 24);
    CHECK(quote->destination == Ipv4Address(10, 0, 0, 9));
    CHECK(quote->source_port() == 12345);
    CHECK(quote->destination_port() == 7);

    // A datagram shorter than header + 8 is quoted whole.
    CHECK(icmp_quote_length(std::span(offending).first(10)) == 10);
    CHECK(icmp_quote_length({}) == 0);
}

TEST_CASE("ICMP quote refuses what cannot be an IPv4 header plus 8 bytes", "[wire][icmp]") {
    const auto offending = ip_of(wire_test::kUdpDnsFrame);
    auto quote_error = [&](std::size_t quoted, auto change) {
        std::vector<std::uint8_t> message = {3, 3, 0, 0, 0, 0, 0, 0};
        message.insert(message.end(), offending.begin(), offending.begin() + quoted);
        change(message);
        return IcmpView::parse(message)->quoted().error();
    };
    auto none = [](auto&) {};
    CHECK(quote_error(19, none) == ParseError::truncated);
    CHECK(quote_error(27, none) == ParseError::truncated);
    CHECK(quote_error(28, none) == ParseError::ok);
    CHECK(quote_error(28, [](auto& m) { m[8] = 0x65; }) == ParseError::bad_version);
    CHECK(quote_error(28, [](auto& m) { m[8] = 0x44; }) == ParseError::bad_header_length);
    CHECK(quote_error(28, [](auto& m) { m[8] = 0x46; }) == ParseError::truncated);
    CHECK(quote_error(28, [](auto& m) { m[0] = 11; }) == ParseError::ok);  // time exceeded
    CHECK(quote_error(28, [](auto& m) { m[0] = 0; }) == ParseError::unsupported);
}

TEST_CASE("UDP view reads a DNS query", "[wire][udp]") {
    const auto bytes = transport_of(wire_test::kUdpDnsFrame);
    auto udp = UdpView::parse(bytes);
    REQUIRE(udp);
    CHECK(udp->source_port() == 53535);
    CHECK(udp->destination_port() == 53);
    CHECK(udp->length() == 37);
    CHECK(udp->checksum() == 0x9f11);
    CHECK(udp->header_length() == 8);
    CHECK(udp->payload().size() == 29);
    CHECK(udp->verify_checksum(checksum(), kHostA, kHostB));
    // The pseudo-header matters: the same bytes between other hosts do not check out.
    CHECK_FALSE(udp->verify_checksum(checksum(), kHostA, Ipv4Address(10, 0, 0, 3)));

    auto repr = UdpRepr::parse(*udp);
    REQUIRE(repr);
    std::vector<std::uint8_t> out(repr->buffer_len());
    REQUIRE(repr->emit(out, kHostA, kHostB, checksum()) == bytes.size());
    CHECK(out == bytes);
}

TEST_CASE("UDP checksum zero means none", "[wire][udp]") {
    auto bytes = transport_of(wire_test::kUdpDnsFrame);
    store_be16(bytes.data() + 6, 0);
    bytes.back() ^= 0x55;  // corruption goes unnoticed without a checksum, as RFC 768 allows
    CHECK(UdpView::parse(bytes)->verify_checksum(checksum(), kHostA, kHostB));
    store_be16(bytes.data() + 6, 0x9f11);
    CHECK_FALSE(UdpView::parse(bytes)->verify_checksum(checksum(), kHostA, kHostB));
}

TEST_CASE("UDP sends a computed zero checksum as 0xffff", "[wire][udp]") {
    std::array<std::uint8_t, 2> payload{};
    UdpRepr repr{1000, 2000, payload};
    std::array<std::uint8_t, 10> out{};
    REQUIRE(repr.emit(out, kHostA, kHostB, checksum()) == 10);
    // Choosing the payload word equal to that checksum makes the complete sum all ones, so the
    // checksum computed for the new datagram is 0.
    store_be16(payload.data(), load_be16(out.data() + 6));
    REQUIRE(repr.emit(out, kHostA, kHostB, checksum()) == 10);
    CHECK(load_be16(out.data() + 6) == 0xffff);
    CHECK(UdpView::parse(out)->verify_checksum(checksum(), kHostA, kHostB));
}

TEST_CASE("UDP refuses bad lengths and ignores bytes past its length", "[wire][udp]") {
    auto bytes = transport_of(wire_test::kUdpDnsFrame);
    CHECK(UdpView::parse(std::span(bytes).first(7)).error() == ParseError::truncated);
    CHECK(UdpView::parse(std::span(bytes).first(36)).error() == ParseError::length_beyond_buffer);
    auto with_length = [&](std::uint16_t length) {
        auto copy = bytes;
        store_be16(copy.data() + 4, length);
        return UdpView::parse(copy);
    };
    CHECK(with_length(0).error() == ParseError::bad_length);
    CHECK(with_length(7).error() == ParseError::bad_length);
    CHECK(with_length(38).error() == ParseError::length_beyond_buffer);
    REQUIRE(with_length(8));
    CHECK(with_length(8)->payload().empty());

    bytes.resize(bytes.size() + 3, 0xcc);  // e.g. an IP datagram longer than the UDP length
    auto udp = UdpView::parse(bytes);
    REQUIRE(udp);
    CHECK(udp->bytes().size() == 37);
    CHECK(udp->verify_checksum(checksum(), kHostA, kHostB));
}

TEST_CASE("UDP emit places the payload and refuses small buffers", "[wire][udp]") {
    std::vector<std::uint8_t> buffer(8 + 5);
    const std::uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
    std::copy(std::begin(hello), std::end(hello), buffer.begin() + 8);
    // Payload already in place (zero copy) and a copy from elsewhere give the same datagram.
    UdpRepr in_place{7, 9, std::span(buffer).subspan(8)};
    REQUIRE(in_place.emit(buffer, kHostB, kHostA, checksum()) == 13);
    std::vector<std::uint8_t> copied(13);
    UdpRepr from_elsewhere{7, 9, hello};
    REQUIRE(from_elsewhere.emit(copied, kHostB, kHostA, checksum()) == 13);
    CHECK(buffer == copied);
    CHECK(UdpView::parse(copied)->verify_checksum(checksum(), kHostB, kHostA));

    CHECK(from_elsewhere.emit(std::span(copied).first(12), kHostB, kHostA, checksum()) == 0);
    std::vector<std::uint8_t> huge(0x10000);
    UdpRepr too_big{1, 2, std::span(huge).first(0xffff - 7)};
    CHECK(too_big.emit(huge, kHostB, kHostA, checksum()) == 0);
}
