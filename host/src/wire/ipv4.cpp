// IPv4 (RFC 791) header checks, checksum and emission.
#include "netloom/wire/ipv4.hpp"

#include "netloom/checksum.hpp"

namespace netloom::wire {

ParseResult<Ipv4View> Ipv4View::parse(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < kMinHeaderLength) return ParseError::truncated;
    const std::uint8_t* at = bytes.data();
    if ((at[0] >> 4) != 4) return ParseError::bad_version;
    const std::size_t header_length = std::size_t{at[0] & 0x0fu} * 4;
    const std::size_t total_length = load_be16(at + 2);
    if (header_length < kMinHeaderLength) return ParseError::bad_header_length;
    // The order matters for the reason reported: a total length shorter than the header is a
    // malformed header, a total length longer than what arrived is a truncated datagram.
    if (total_length < header_length) return ParseError::bad_header_length;
    if (total_length > bytes.size()) return ParseError::length_beyond_buffer;
    return Ipv4View(bytes.first(total_length));
}

bool Ipv4View::verify_checksum(const Checksum& checksum) const noexcept {
    return Checksum::fold(checksum.partial(header())) == 0xffff;
}

ParseResult<Ipv4Repr> Ipv4Repr::parse(const Ipv4View& view) noexcept {
    Ipv4Repr repr;
    repr.source = view.source();
    repr.destination = view.destination();
    repr.protocol = view.protocol();
    repr.payload_length = static_cast<std::uint16_t>(view.payload().size());
    repr.ttl = view.ttl();
    repr.dscp = view.dscp();
    repr.ecn = view.ecn();
    repr.identification = view.identification();
    repr.dont_fragment = view.dont_fragment();
    repr.more_fragments = view.more_fragments();
    repr.fragment_offset = static_cast<std::uint16_t>(view.fragment_offset());
    return repr;
}

bool Ipv4Repr::emit(std::span<std::uint8_t> out, const Checksum& checksum) const noexcept {
    if (out.size() < header_len()) return false;
    if (std::size_t{payload_length} + header_len() > 0xffff) return false;
    if (fragment_offset % 8 != 0 || dscp > 0x3f || ecn > 0x03) return false;
    std::uint8_t* at = out.data();
    at[0] = 0x45;  // version 4, IHL 5: netloom sends no IP options
    at[1] = static_cast<std::uint8_t>((dscp << 2) | ecn);
    store_be16(at + 2, static_cast<std::uint16_t>(payload_length + header_len()));
    store_be16(at + 4, identification);
    std::uint16_t flags_and_offset = static_cast<std::uint16_t>(fragment_offset / 8);
    if (dont_fragment) flags_and_offset |= 0x4000;
    if (more_fragments) flags_and_offset |= 0x2000;
    store_be16(at + 6, flags_and_offset);
    at[8] = ttl;
    at[9] = static_cast<std::uint8_t>(protocol);
    store_be16(at + 10, 0);
    source.write_to(at + 12);
    destination.write_to(at + 16);
    store_be16(at + 10, checksum.finish(out.first(header_len())));
    return true;
}

}  // namespace netloom::wire
