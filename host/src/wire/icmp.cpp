// ICMPv4 (RFC 792) checks, quoted-datagram access and emission.
#include "netloom/wire/icmp.hpp"

#include "netloom/checksum.hpp"

namespace netloom::wire {

namespace {

// Largest ICMP message inside a maximal IPv4 datagram with a 20-byte header.
constexpr std::size_t kMaxMessage = 0xffff - Ipv4View::kMinHeaderLength;

// RFC 792: bytes of the original datagram after its header that an error carries.
constexpr std::size_t kQuotedTransportBytes = 8;

}  // namespace

ParseResult<IcmpView> IcmpView::parse(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < kHeaderLength) return ParseError::truncated;
    return IcmpView(bytes);
}

ParseResult<IcmpQuote> IcmpView::quoted() const noexcept {
    if (!is_icmp_error(type())) return ParseError::unsupported;
    const auto quote = payload();
    if (quote.size() < Ipv4View::kMinHeaderLength) return ParseError::truncated;
    if ((quote[0] >> 4) != 4) return ParseError::bad_version;
    const std::size_t header_length = std::size_t{quote[0] & 0x0fu} * 4;
    if (header_length < Ipv4View::kMinHeaderLength) return ParseError::bad_header_length;
    if (quote.size() < header_length + kQuotedTransportBytes) return ParseError::truncated;
    IcmpQuote result;
    result.source = Ipv4Address::from_bytes(quote.data() + 12);
    result.destination = Ipv4Address::from_bytes(quote.data() + 16);
    result.protocol = IpProtocol{quote[9]};
    result.header = quote.first(header_length);
    result.transport = quote.subspan(header_length, kQuotedTransportBytes);
    return result;
}

bool IcmpView::verify_checksum(const Checksum& checksum) const noexcept {
    return Checksum::fold(checksum.partial(bytes_)) == 0xffff;
}

std::size_t icmp_quote_length(std::span<const std::uint8_t> offending) noexcept {
    std::size_t header_length = Ipv4View::kMinHeaderLength;
    if (!offending.empty()) {
        const std::size_t ihl_bytes = std::size_t{offending[0] & 0x0fu} * 4;
        if (ihl_bytes >= Ipv4View::kMinHeaderLength) header_length = ihl_bytes;
    }
    const std::size_t wanted = header_length + kQuotedTransportBytes;
    return wanted < offending.size() ? wanted : offending.size();
}

IcmpRepr IcmpRepr::echo_request(std::uint16_t identifier, std::uint16_t sequence,
                                std::span<const std::uint8_t> data) noexcept {
    return IcmpRepr{IcmpType::echo_request, 0, (std::uint32_t{identifier} << 16) | sequence, data};
}

IcmpRepr IcmpRepr::echo_reply(std::uint16_t identifier, std::uint16_t sequence,
                              std::span<const std::uint8_t> data) noexcept {
    return IcmpRepr{IcmpType::echo_reply, 0, (std::uint32_t{identifier} << 16) | sequence, data};
}

IcmpRepr IcmpRepr::destination_unreachable(IcmpUnreachable code,
                                           std::span<const std::uint8_t> offending,
                                           std::uint16_t next_hop_mtu) noexcept {
    // RFC 1191 section 4: the low 16 bits of the unused word carry the next-hop MTU.
    const std::uint32_t rest = code == IcmpUnreachable::fragmentation_needed ? next_hop_mtu : 0;
    return IcmpRepr{IcmpType::destination_unreachable, static_cast<std::uint8_t>(code), rest,
                    offending.first(icmp_quote_length(offending))};
}

IcmpRepr IcmpRepr::time_exceeded(IcmpTimeExceeded code,
                                 std::span<const std::uint8_t> offending) noexcept {
    return IcmpRepr{IcmpType::time_exceeded, static_cast<std::uint8_t>(code), 0,
                    offending.first(icmp_quote_length(offending))};
}

ParseResult<IcmpRepr> IcmpRepr::parse(const IcmpView& view) noexcept {
    return IcmpRepr{view.type(), view.code(), view.rest_of_header(), view.payload()};
}

std::size_t IcmpRepr::emit(std::span<std::uint8_t> out, const Checksum& checksum) const noexcept {
    const std::size_t length = buffer_len();
    if (out.size() < length || length > kMaxMessage) return 0;
    std::uint8_t* at = out.data();
    place_payload(at + header_len(), data);
    at[0] = static_cast<std::uint8_t>(type);
    at[1] = code;
    store_be16(at + 2, 0);
    store_be32(at + 4, rest_of_header);
    store_be16(at + 2, checksum.finish(out.first(length)));
    return length;
}

}  // namespace netloom::wire
