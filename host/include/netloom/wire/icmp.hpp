// wire/icmp.hpp — ICMP for IPv4 (RFC 792): echo, and the error messages a host sends and reads.
//
// Contract: `IcmpView::parse` accepts any message of at least 8 bytes (type, code, checksum and
// the 4-byte rest of header); the view covers all the bytes it is given (the IP payload). The
// checksum covers the whole message and is checked only by `verify_checksum`. For error messages
// (destination unreachable, source quench, redirect, time exceeded, parameter problem),
// `quoted()` reads the embedded original IP header and its first 8 payload bytes (RFC 792: "the
// internet header plus the first 64 bits of the original datagram"), which is how a host maps an
// error to a socket. Emitted errors quote exactly that much (RFC 1122 3.2.2 asks for at least it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

enum class IcmpType : std::uint8_t {
    echo_reply = 0,
    destination_unreachable = 3,
    source_quench = 4,
    redirect = 5,
    echo_request = 8,
    time_exceeded = 11,
    parameter_problem = 12,
    timestamp = 13,
    timestamp_reply = 14,
};

/// Codes of destination unreachable (RFC 792, RFC 1191 for fragmentation_needed).
enum class IcmpUnreachable : std::uint8_t {
    net = 0,
    host = 1,
    protocol = 2,
    port = 3,
    fragmentation_needed = 4,
    source_route_failed = 5,
};

/// Codes of time exceeded (RFC 792).
enum class IcmpTimeExceeded : std::uint8_t {
    ttl = 0,
    reassembly = 1,
};

/// True for the types whose body quotes an offending datagram.
constexpr bool is_icmp_error(IcmpType type) noexcept {
    switch (type) {
        case IcmpType::destination_unreachable:
        case IcmpType::source_quench:
        case IcmpType::redirect:
        case IcmpType::time_exceeded:
        case IcmpType::parameter_problem: return true;
        default: return false;
    }
}

/// The part of the offending datagram an ICMP error carries.
struct IcmpQuote {
    Ipv4Address source;
    Ipv4Address destination;
    IpProtocol protocol = IpProtocol::tcp;
    std::span<const std::uint8_t> header;     ///< the quoted IPv4 header, options included
    std::span<const std::uint8_t> transport;  ///< the 8 bytes after it (ports for TCP and UDP)

    std::uint16_t source_port() const noexcept { return load_be16(transport.data()); }
    std::uint16_t destination_port() const noexcept { return load_be16(transport.data() + 2); }
};

class IcmpView {
public:
    static constexpr std::size_t kHeaderLength = 8;

    static ParseResult<IcmpView> parse(std::span<const std::uint8_t> bytes) noexcept;

    IcmpType type() const noexcept { return IcmpType{bytes_[0]}; }
    std::uint8_t code() const noexcept { return bytes_[1]; }
    std::uint16_t checksum() const noexcept { return load_be16(bytes_.data() + 2); }
    /// Bytes 4..7, whose meaning depends on the type.
    std::uint32_t rest_of_header() const noexcept { return load_be32(bytes_.data() + 4); }
    /// Echo request/reply fields (meaningless for other types).
    std::uint16_t echo_identifier() const noexcept { return load_be16(bytes_.data() + 4); }
    std::uint16_t echo_sequence() const noexcept { return load_be16(bytes_.data() + 6); }
    /// RFC 1191: the MTU of the next hop in a "fragmentation needed" message (0 if unknown).
    std::uint16_t next_hop_mtu() const noexcept { return load_be16(bytes_.data() + 6); }
    /// RFC 792: in a parameter problem, the octet of the quoted header that was wrong.
    std::uint8_t problem_pointer() const noexcept { return bytes_[4]; }

    std::size_t header_length() const noexcept { return kHeaderLength; }
    /// Echo data, or the quoted datagram of an error.
    std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(kHeaderLength); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

    /// The quoted datagram of an error message. `unsupported` for non-error types; `truncated`
    /// when less than a header plus 8 bytes is quoted; bad version or IHL as for Ipv4View.
    /// The quoted total length is not checked: the datagram is, by design, cut short.
    ParseResult<IcmpQuote> quoted() const noexcept;

    /// RFC 792: the one's-complement sum over the whole message is all ones.
    bool verify_checksum(const Checksum& checksum) const noexcept;

private:
    explicit IcmpView(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    std::span<const std::uint8_t> bytes_;
};

struct IcmpRepr {
    IcmpType type = IcmpType::echo_request;
    std::uint8_t code = 0;
    std::uint32_t rest_of_header = 0;
    std::span<const std::uint8_t> data;  ///< echo data, or the quoted datagram

    static IcmpRepr echo_request(std::uint16_t identifier, std::uint16_t sequence,
                                 std::span<const std::uint8_t> data) noexcept;
    static IcmpRepr echo_reply(std::uint16_t identifier, std::uint16_t sequence,
                               std::span<const std::uint8_t> data) noexcept;
    /// `offending` is the datagram that caused the error, from its IP header on; only its header
    /// plus 8 bytes is quoted. `next_hop_mtu` is sent only with fragmentation_needed.
    static IcmpRepr destination_unreachable(IcmpUnreachable code,
                                            std::span<const std::uint8_t> offending,
                                            std::uint16_t next_hop_mtu = 0) noexcept;
    static IcmpRepr time_exceeded(IcmpTimeExceeded code,
                                  std::span<const std::uint8_t> offending) noexcept;

    std::uint16_t echo_identifier() const noexcept {
        return static_cast<std::uint16_t>(rest_of_header >> 16);
    }
    std::uint16_t echo_sequence() const noexcept {
        return static_cast<std::uint16_t>(rest_of_header);
    }

    /// Never fails on a parsed view.
    static ParseResult<IcmpRepr> parse(const IcmpView& view) noexcept;
    static constexpr std::size_t header_len() noexcept { return IcmpView::kHeaderLength; }
    std::size_t buffer_len() const noexcept { return header_len() + data.size(); }
    /// Writes the message (data copied unless already in place) with its checksum at the front of
    /// `out`. Returns buffer_len(), or 0 when `out` is too small or the message passes 65515.
    std::size_t emit(std::span<std::uint8_t> out, const Checksum& checksum) const noexcept;
};

/// How much of `offending` (an IPv4 datagram) an ICMP error quotes: its header (per its IHL,
/// 20 bytes if that field is unusable) plus 8 bytes, capped at what is there.
std::size_t icmp_quote_length(std::span<const std::uint8_t> offending) noexcept;

}  // namespace netloom::wire
