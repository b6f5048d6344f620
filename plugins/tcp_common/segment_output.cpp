// segment_output.cpp — header, payload copy and checksum in one pass (contract in
// segment_output.hpp).
#include "netloom/tcp_common/segment_output.hpp"

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"

namespace netloom::tcp {

Packet build_segment(const wire::TcpRepr& header, const PayloadPieces& payload,
                     wire::Ipv4Address source, wire::Ipv4Address destination,
                     const Checksum& checksum) {
    const std::size_t header_length = header.header_len();
    const std::size_t payload_length = payload[0].size() + payload[1].size();
    const std::size_t length = header_length + payload_length;
    if (length > 0xffff) return {};
    Packet packet = Packet::allocate(length);
    const std::span<std::uint8_t> bytes = packet.append(length);
    header.emit_header(bytes);  // checksum field zero
    std::uint64_t sum = wire::pseudo_header_sum(source, destination, wire::IpProtocol::tcp,
                                                static_cast<std::uint16_t>(length));
    sum = checksum.partial(bytes.first(header_length), sum);  // a multiple of 4 bytes
    std::span<std::uint8_t> out = bytes.subspan(header_length);
    std::size_t at = 0;  // offset into the payload; the header's length is even
    for (const std::span<const std::uint8_t>& piece : payload) {
        if (piece.empty()) continue;
        const std::span<std::uint8_t> into = out.subspan(at, piece.size());
        // RFC 1071 2(B): a piece starting at an odd offset adds its byte-swapped sum.
        sum = at % 2 == 0 ? checksum.copy_partial(into, piece, sum)
                          : Checksum::add_at_odd_offset(sum, checksum.copy_partial(into, piece));
        at += piece.size();
    }
    wire::store_be16(bytes.data() + 16, static_cast<std::uint16_t>(~Checksum::fold(sum)));
    return packet;
}

}  // namespace netloom::tcp
