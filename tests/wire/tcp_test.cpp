// TCP views and Reprs: the Linux SYN, refusals, checksums, emit/parse round trips, zero-copy emit.
#include <catch2/catch.hpp>
#include <vector>

#include "netloom/packet.hpp"
#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"
#include "wire_test_support.hpp"

using namespace netloom::wire;
using wire_test::checksum;

namespace {

const Ipv4Address kTcpHostA(10, 0, 0, 2);
const Ipv4Address kTcpHostB(10, 0, 0, 1);

std::vector<std::uint8_t> linux_syn_segment() {
    auto bytes = std::span(wire_test::kTcpSynFrame).subspan(14 + 20);
    return {bytes.begin(), bytes.end()};
}

bool same_repr(const TcpRepr& a, const TcpRepr& b) {
    return a.source_port == b.source_port && a.destination_port == b.destination_port &&
           a.sequence_number == b.sequence_number &&
           a.acknowledgment_number == b.acknowledgment_number && a.flags == b.flags &&
           a.window == b.window && a.urgent_pointer == b.urgent_pointer && a.options == b.options &&
           wire_test::same_bytes(a.payload, b.payload);
}

}  // namespace

TEST_CASE("TCP parses a Linux SYN through every layer", "[wire][tcp]") {
    auto frame = EthernetView::parse(wire_test::kTcpSynFrame);
    REQUIRE(frame);
    REQUIRE(frame->ethertype() == EtherType::ipv4);
    auto ip = Ipv4View::parse(frame->payload());
    REQUIRE(ip);
    REQUIRE(ip->protocol() == IpProtocol::tcp);
    CHECK(ip->verify_checksum(checksum()));
    auto tcp = TcpView::parse(ip->payload());
    REQUIRE(tcp);

    CHECK(tcp->source_port() == 43210);
    CHECK(tcp->destination_port() == 5201);
    CHECK(tcp->sequence_number() == 0x1f2e3d4cu);
    CHECK(tcp->acknowledgment_number() == 0);
    CHECK(tcp->header_length() == 40);
    CHECK(tcp->reserved_bits() == 0);
    CHECK(tcp->flags() == tcp_flag::syn);
    CHECK(tcp->has(tcp_flag::syn));
    CHECK_FALSE(tcp->has(tcp_flag::ack));
    CHECK(tcp->window() == 64240);
    CHECK(tcp->checksum() == 0x3368);
    CHECK(tcp->urgent_pointer() == 0);
    CHECK(tcp->options().size() == 20);
    CHECK(tcp->payload().empty());
    CHECK(tcp->sequence_length() == 1);
    CHECK(tcp->verify_checksum(checksum(), ip->source(), ip->destination()));
    CHECK_FALSE(tcp->verify_checksum(checksum(), ip->destination(), Ipv4Address(10, 0, 0, 3)));

    auto repr = TcpRepr::parse(*tcp);
    REQUIRE(repr);
    CHECK(repr->options.mss == 1460);
    CHECK(repr->options.sack_permitted);
    CHECK(repr->options.window_scale == 7);
    REQUIRE(repr->options.timestamps);
    CHECK(repr->options.timestamps->value == 0x9a3c51d2u);
    CHECK(repr->options.timestamps->echo == 0);
    CHECK(repr->options.sack_count == 0);
}

TEST_CASE("TCP option reader walks the Linux SYN options in order", "[wire][tcp]") {
    const auto segment = linux_syn_segment();
    TcpOptionReader reader{std::span(segment).subspan(20)};
    std::vector<std::uint8_t> kinds;
    TcpOption option;
    while (reader.next(option)) kinds.push_back(option.kind);
    CHECK(reader.error() == ParseError::ok);
    CHECK(kinds == std::vector<std::uint8_t>{2, 4, 8, 3});  // the NOP is not yielded
}

TEST_CASE("TCP Repr re-emits the Linux SYN byte for byte", "[wire][tcp]") {
    const auto segment = linux_syn_segment();
    auto repr = TcpRepr::parse(*TcpView::parse(segment));
    REQUIRE(repr);
    CHECK(repr->header_len() == 40);
    std::vector<std::uint8_t> out(repr->buffer_len());
    REQUIRE(repr->emit(out, kTcpHostA, kTcpHostB, checksum()) == 40);
    CHECK(out == segment);
}

TEST_CASE("TCP refuses bad data offsets", "[wire][tcp]") {
    const auto segment = linux_syn_segment();
    CHECK(TcpView::parse(std::span(segment).first(19)).error() == ParseError::truncated);
    // The header claims 40 bytes: any shorter segment is refused, not read past.
    CHECK(TcpView::parse(std::span(segment).first(39)).error() == ParseError::bad_data_offset);
    for (std::uint8_t offset : {0, 1, 4, 11, 15}) {
        auto bytes = segment;
        bytes[12] = static_cast<std::uint8_t>(offset << 4);
        INFO("data offset " << int{offset});
        CHECK(TcpView::parse(bytes).error() == ParseError::bad_data_offset);
    }
    auto bytes = segment;
    bytes[12] = 5 << 4;  // options now read as 20 bytes of payload
    auto tcp = TcpView::parse(bytes);
    REQUIRE(tcp);
    CHECK(tcp->payload().size() == 20);
    CHECK(tcp->options().empty());
}

TEST_CASE("TCP checksum catches a flipped bit anywhere in the segment", "[wire][tcp]") {
    const auto segment = linux_syn_segment();
    for (std::size_t offset = 0; offset < segment.size(); ++offset) {
        if (offset == 12) continue;  // the data offset: would change the parse instead
        auto bytes = segment;
        bytes[offset] ^= 0x10;
        INFO("offset " << offset);
        CHECK_FALSE(TcpView::parse(bytes)->verify_checksum(checksum(), kTcpHostA, kTcpHostB));
    }
}

TEST_CASE("TCP Repr round-trips data segments with every option", "[wire][tcp]") {
    std::vector<std::uint8_t> payload(1000);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);

    TcpRepr repr;
    repr.source_port = 5201;
    repr.destination_port = 43210;
    repr.sequence_number = 0xfffffff0u;  // about to wrap
    repr.acknowledgment_number = 0x1f2e3d4du;
    repr.flags = tcp_flag::ack | tcp_flag::psh | tcp_flag::ece | tcp_flag::cwr | tcp_flag::urg;
    repr.window = 502;
    repr.urgent_pointer = 17;
    repr.options.timestamps = TcpTimestamps{123456789, 0x9a3c51d2u};
    repr.options.sack_blocks[0] = {100, 200};
    repr.options.sack_blocks[1] = {300, 400};
    repr.options.sack_blocks[2] = {0xfffffff0u, 16};
    repr.options.sack_count = 3;
    repr.payload = payload;

    CHECK(repr.header_len() == 20 + 12 + 4 + 24);
    std::vector<std::uint8_t> out(repr.buffer_len());
    REQUIRE(repr.emit(out, kTcpHostB, kTcpHostA, checksum()) == out.size());
    auto view = TcpView::parse(out);
    REQUIRE(view);
    CHECK(view->verify_checksum(checksum(), kTcpHostB, kTcpHostA));
    CHECK(view->sequence_length() == 1000);
    auto parsed = TcpRepr::parse(*view);
    REQUIRE(parsed);
    CHECK(same_repr(*parsed, repr));

    repr.flags = tcp_flag::fin | tcp_flag::ack;
    repr.options = {};
    repr.payload = {};
    out.assign(repr.buffer_len(), 0);
    REQUIRE(repr.emit(out, kTcpHostB, kTcpHostA, checksum()) == 20);
    view = TcpView::parse(out);
    REQUIRE(view);
    CHECK(view->sequence_length() == 1);
    CHECK(same_repr(*TcpRepr::parse(*view), repr));
}

TEST_CASE("TCP zero-copy emit into a Packet's headroom", "[wire][tcp]") {
    const std::uint8_t data[] = {'G', 'E', 'T', ' ', '/', '\r', '\n'};
    auto packet = netloom::Packet::copy_of(data);
    TcpRepr repr;
    repr.source_port = 80;
    repr.destination_port = 40000;
    repr.sequence_number = 1;
    repr.acknowledgment_number = 2;
    repr.flags = tcp_flag::ack | tcp_flag::psh;
    repr.window = 65535;
    repr.options.timestamps = TcpTimestamps{5, 6};
    repr.payload = packet.bytes();  // already in place: emit_header must not disturb it

    auto header = packet.prepend(repr.header_len());
    REQUIRE(header.size() == 32);
    REQUIRE(repr.emit_header(header));
    TcpRepr::fill_checksum(packet.bytes(), kTcpHostA, kTcpHostB, checksum());

    auto view = TcpView::parse(packet.bytes());
    REQUIRE(view);
    CHECK(view->verify_checksum(checksum(), kTcpHostA, kTcpHostB));
    CHECK(wire_test::same_bytes(view->payload(), data));
    CHECK(view->options().size() == 12);

    // emit() over the same buffer, payload in place, gives the same bytes.
    std::vector<std::uint8_t> before(packet.bytes().begin(), packet.bytes().end());
    repr.payload = packet.bytes().subspan(32);
    REQUIRE(repr.emit(packet.bytes(), kTcpHostA, kTcpHostB, checksum()) == packet.size());
    CHECK(wire_test::same_bytes(packet.bytes(), before));
}

TEST_CASE("TCP emit refuses buffers that are too small", "[wire][tcp]") {
    TcpRepr repr;
    repr.options.mss = 1460;
    const std::uint8_t payload[3] = {1, 2, 3};
    repr.payload = payload;
    std::vector<std::uint8_t> out(repr.buffer_len() - 1, 0xab);
    CHECK(repr.emit(out, kTcpHostA, kTcpHostB, checksum()) == 0);
    CHECK_FALSE(repr.emit_header(std::span(out).first(repr.header_len() - 1)));
    CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xab; }));
}
