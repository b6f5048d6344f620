// UDP (RFC 768) checks, checksum and emission.
#include "netloom/wire/udp.hpp"

#include "netloom/checksum.hpp"

namespace netloom::wire {

ParseResult<UdpView> UdpView::parse(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < kHeaderLength) return ParseError::truncated;
    const std::size_t length = load_be16(bytes.data() + 4);
    if (length < kHeaderLength) return ParseError::bad_length;
    if (length > bytes.size()) return ParseError::length_beyond_buffer;
    return UdpView(bytes.first(length));
}

bool UdpView::verify_checksum(const Checksum& checksum, Ipv4Address source,
                              Ipv4Address destination) const noexcept {
    if (this->checksum() == 0) return true;  // RFC 768: zero means the sender computed none
    const auto pseudo = pseudo_header_sum(source, destination, IpProtocol::udp, length());
    return Checksum::fold(checksum.partial(bytes_, pseudo)) == 0xffff;
}

ParseResult<UdpRepr> UdpRepr::parse(const UdpView& view) noexcept {
    return UdpRepr{view.source_port(), view.destination_port(), view.payload()};
}

void UdpRepr::fill_checksum(std::span<std::uint8_t> datagram, Ipv4Address source,
                            Ipv4Address destination, const Checksum& checksum) noexcept {
    if (datagram.size() < UdpView::kHeaderLength || datagram.size() > 0xffff) return;
    store_be16(datagram.data() + 6, 0);
    const auto length = static_cast<std::uint16_t>(datagram.size());
    std::uint16_t value =
        checksum.finish(datagram, pseudo_header_sum(source, destination, IpProtocol::udp, length));
    // RFC 768: a computed zero is transmitted as all ones, since zero means "no checksum".
    if (value == 0) value = 0xffff;
    store_be16(datagram.data() + 6, value);
}

std::size_t UdpRepr::emit(std::span<std::uint8_t> out, Ipv4Address source, Ipv4Address destination,
                          const Checksum& checksum) const noexcept {
    const std::size_t length = buffer_len();
    if (out.size() < length || length > 0xffff) return 0;
    std::uint8_t* at = out.data();
    place_payload(at + header_len(), payload);
    store_be16(at, source_port);
    store_be16(at + 2, destination_port);
    store_be16(at + 4, static_cast<std::uint16_t>(length));
    fill_checksum(out.first(length), source, destination, checksum);
    return length;
}

}  // namespace netloom::wire
