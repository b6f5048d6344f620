// build_segment: header, payload copied from the send ring (across its wrap, at odd and even
// split points) and the checksum computed in the same pass verify like any received segment.
#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "netloom/tcp_common/segment_output.hpp"
#include "netloom/tcp_common/send_buffer.hpp"
#include "ref_checksum.hpp"

using netloom::tcp::SendBuffer;
namespace wire = netloom::wire;

namespace {

const wire::Ipv4Address kSource{10, 0, 0, 1};
const wire::Ipv4Address kDestination{10, 0, 0, 2};

wire::TcpRepr header() {
    wire::TcpRepr repr;
    repr.source_port = 40000;
    repr.destination_port = 80;
    repr.sequence_number = 1234;
    repr.acknowledgment_number = 5678;
    repr.flags = wire::tcp_flag::ack | wire::tcp_flag::psh;
    repr.window = 1000;
    repr.options.timestamps = wire::TcpTimestamps{7, 9};
    return repr;
}

}  // namespace

TEST_CASE("a segment built from the send ring verifies, whatever the wrap's parity",
          "[segment_output]") {
    netloom::checksum::RefChecksum checksum;
    for (const std::uint32_t head : {0u, 1000u, 2046u, 2040u, 2041u, 1000u - 1448u / 2}) {
        for (const std::uint32_t length : {0u, 1u, 7u, 8u, 1448u}) {
            SendBuffer buffer(2048);
            std::vector<std::uint8_t> filler(head + 1, 0);
            buffer.append(filler);
            buffer.consume(head);  // one byte left, at `head` bytes into the ring
            std::vector<std::uint8_t> bytes(2048 - 100);
            std::iota(bytes.begin(), bytes.end(), std::uint8_t{1});
            REQUIRE(buffer.append(bytes) == bytes.size());
            const auto pieces = buffer.view(1 + 3, length);
            REQUIRE(pieces[0].size() + pieces[1].size() == length);
            const netloom::Packet packet =
                netloom::tcp::build_segment(header(), pieces, kSource, kDestination, checksum);
            REQUIRE(packet);
            auto view = wire::TcpView::parse(packet.bytes());
            REQUIRE(view);
            CHECK(view->verify_checksum(checksum, kSource, kDestination));
            auto repr = wire::TcpRepr::parse(*view);
            REQUIRE(repr);
            CHECK(repr->sequence_number == 1234);
            CHECK(repr->options.timestamps == wire::TcpTimestamps{7, 9});
            CHECK(std::equal(repr->payload.begin(), repr->payload.end(), bytes.begin() + 3,
                             bytes.begin() + 3 + length));
            CHECK(repr->payload.size() == length);
            CHECK(packet.headroom() >= netloom::Packet::kDefaultHeadroom);
        }
    }
}

TEST_CASE("a segment past 65535 bytes is refused", "[segment_output]") {
    netloom::checksum::RefChecksum checksum;
    std::vector<std::uint8_t> big(70'000, 1);
    const netloom::tcp::PayloadPieces pieces{std::span<const std::uint8_t>(big), {}};
    CHECK_FALSE(netloom::tcp::build_segment(header(), pieces, kSource, kDestination, checksum));
}
