// TCP (RFC 9293 3.1) header checks, checksum and emission.
#include "netloom/wire/tcp.hpp"

#include "netloom/checksum.hpp"

namespace netloom::wire {

ParseResult<TcpView> TcpView::parse(std::span<const std::uint8_t> segment) noexcept {
    if (segment.size() < kMinHeaderLength) return ParseError::truncated;
    const std::size_t header_length = static_cast<std::size_t>(segment[12] >> 4) * 4;
    if (header_length < kMinHeaderLength || header_length > segment.size()) {
        return ParseError::bad_data_offset;
    }
    return TcpView(segment);
}

bool TcpView::verify_checksum(const Checksum& checksum, Ipv4Address source,
                              Ipv4Address destination) const noexcept {
    if (bytes_.size() > 0xffff) return false;  // cannot be described by a pseudo-header
    const auto pseudo = pseudo_header_sum(source, destination, IpProtocol::tcp,
                                          static_cast<std::uint16_t>(bytes_.size()));
    return Checksum::fold(checksum.partial(bytes_, pseudo)) == 0xffff;
}

ParseResult<TcpRepr> TcpRepr::parse(const TcpView& view) noexcept {
    auto options = parse_tcp_options(view.options());
    if (!options) return options.error();
    TcpRepr repr;
    repr.source_port = view.source_port();
    repr.destination_port = view.destination_port();
    repr.sequence_number = view.sequence_number();
    repr.acknowledgment_number = view.acknowledgment_number();
    repr.flags = view.flags();
    repr.window = view.window();
    repr.urgent_pointer = view.urgent_pointer();
    repr.options = *options;
    repr.payload = view.payload();
    return repr;
}

bool TcpRepr::emit_header(std::span<std::uint8_t> out) const noexcept {
    const std::size_t length = header_len();
    if (out.size() < length) return false;
    std::uint8_t* at = out.data();
    store_be16(at, source_port);
    store_be16(at + 2, destination_port);
    store_be32(at + 4, sequence_number);
    store_be32(at + 8, acknowledgment_number);
    at[12] = static_cast<std::uint8_t>((length / 4) << 4);  // data offset; reserved bits zero
    at[13] = flags;
    store_be16(at + 14, window);
    store_be16(at + 16, 0);
    store_be16(at + 18, urgent_pointer);
    return options.emit(out.subspan(TcpView::kMinHeaderLength));
}

void TcpRepr::fill_checksum(std::span<std::uint8_t> segment, Ipv4Address source,
                            Ipv4Address destination, const Checksum& checksum) noexcept {
    if (segment.size() < TcpView::kMinHeaderLength || segment.size() > 0xffff) return;
    store_be16(segment.data() + 16, 0);
    const auto pseudo = pseudo_header_sum(source, destination, IpProtocol::tcp,
                                          static_cast<std::uint16_t>(segment.size()));
    store_be16(segment.data() + 16, checksum.finish(segment, pseudo));
}

std::size_t TcpRepr::emit(std::span<std::uint8_t> out, Ipv4Address source, Ipv4Address destination,
                          const Checksum& checksum) const noexcept {
    const std::size_t length = buffer_len();
    if (out.size() < length || length > 0xffff) return 0;
    // Payload first: if the caller's payload overlaps where the header goes, it is moved before
    // the header overwrites it.
    place_payload(out.data() + header_len(), payload);
    if (!emit_header(out)) return 0;
    fill_checksum(out.first(length), source, destination, checksum);
    return length;
}

}  // namespace netloom::wire
