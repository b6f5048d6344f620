// wire/ipv4.hpp — IPv4 datagrams (RFC 791) and the pseudo-header sum TCP and UDP checksums use.
//
// Contract: `Ipv4View::parse` accepts bytes where version == 4, IHL >= 5 and
// IHL*4 <= total length <= buffer length. The view then covers exactly `total_length()` bytes,
// so link-layer padding after the datagram is not part of `payload()`. Options are exposed as raw
// bytes and never interpreted. The header checksum is not checked by `parse`: call
// `verify_checksum` with the stack's Checksum (a device may already have verified it).
// `Ipv4Repr` emits a 20-byte header without options; fragment offsets are in bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom {
class Checksum;
}

namespace netloom::wire {

/// IANA protocol numbers carried in the IPv4 protocol field (others are valid values too).
enum class IpProtocol : std::uint8_t {
    icmp = 1,
    tcp = 6,
    udp = 17,
};

/// One's-complement partial sum of the RFC 793 3.1 / RFC 768 pseudo-header (source, destination,
/// zero, protocol, upper-layer length), to pass as the starting `acc` of Checksum::partial over
/// the TCP or UDP bytes. The 12 pseudo-header bytes are even, so chaining is exact.
constexpr std::uint64_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination,
                                          IpProtocol protocol, std::uint16_t length) noexcept {
    const std::uint32_t s = source.to_uint();
    const std::uint32_t d = destination.to_uint();
    return std::uint64_t{s >> 16} + (s & 0xffff) + (d >> 16) + (d & 0xffff) +
           static_cast<std::uint8_t>(protocol) + length;
}

class Ipv4View {
public:
    static constexpr std::size_t kMinHeaderLength = 20;
    static constexpr std::size_t kMaxHeaderLength = 60;

    static ParseResult<Ipv4View> parse(std::span<const std::uint8_t> bytes) noexcept;

    std::uint8_t version() const noexcept { return bytes_[0] >> 4; }
    /// IHL * 4: 20..60 bytes.
    std::size_t header_length() const noexcept { return std::size_t{bytes_[0] & 0x0fu} * 4; }
    std::uint8_t dscp() const noexcept { return bytes_[1] >> 2; }
    std::uint8_t ecn() const noexcept { return bytes_[1] & 0x03; }
    std::uint16_t total_length() const noexcept { return load_be16(bytes_.data() + 2); }
    std::uint16_t identification() const noexcept { return load_be16(bytes_.data() + 4); }
    /// The reserved flag bit (RFC 791: must be zero; exposed so the IP layer can decide).
    bool reserved_flag() const noexcept { return (bytes_[6] & 0x80) != 0; }
    bool dont_fragment() const noexcept { return (bytes_[6] & 0x40) != 0; }
    bool more_fragments() const noexcept { return (bytes_[6] & 0x20) != 0; }
    /// Offset of this fragment's data in the original datagram, in bytes (field * 8).
    std::uint32_t fragment_offset() const noexcept {
        return std::uint32_t{load_be16(bytes_.data() + 6) & 0x1fffu} * 8;
    }
    /// True for any piece of a fragmented datagram (MF set or a non-zero offset).
    bool is_fragment() const noexcept { return more_fragments() || fragment_offset() != 0; }
    std::uint8_t ttl() const noexcept { return bytes_[8]; }
    IpProtocol protocol() const noexcept { return IpProtocol{bytes_[9]}; }
    std::uint16_t checksum() const noexcept { return load_be16(bytes_.data() + 10); }
    Ipv4Address source() const noexcept { return Ipv4Address::from_bytes(bytes_.data() + 12); }
    Ipv4Address destination() const noexcept { return Ipv4Address::from_bytes(bytes_.data() + 16); }

    /// Option bytes between the fixed header and the payload (possibly empty), uninterpreted.
    std::span<const std::uint8_t> options() const noexcept {
        return bytes_.subspan(kMinHeaderLength, header_length() - kMinHeaderLength);
    }
    std::span<const std::uint8_t> header() const noexcept { return bytes_.first(header_length()); }
    std::span<const std::uint8_t> payload() const noexcept {
        return bytes_.subspan(header_length());
    }
    /// The whole datagram: exactly total_length() bytes.
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

    /// RFC 791 3.1: the one's-complement sum over the header, checksum included, is all ones.
    bool verify_checksum(const Checksum& checksum) const noexcept;

private:
    explicit Ipv4View(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    std::span<const std::uint8_t> bytes_;
};

struct Ipv4Repr {
    Ipv4Address source;
    Ipv4Address destination;
    IpProtocol protocol = IpProtocol::tcp;
    std::uint16_t payload_length = 0;  ///< bytes after the header
    std::uint8_t ttl = 64;
    std::uint8_t dscp = 0;
    std::uint8_t ecn = 0;
    std::uint16_t identification = 0;
    bool dont_fragment = true;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0;  ///< bytes; a multiple of 8, at most 65528

    /// Reads the fixed header fields; options are dropped. Never fails on a parsed view.
    static ParseResult<Ipv4Repr> parse(const Ipv4View& view) noexcept;
    static constexpr std::size_t header_len() noexcept { return Ipv4View::kMinHeaderLength; }
    /// Writes the 20-byte header, checksum filled in, at the front of `out`. False (nothing
    /// written) if `out` is shorter, the total length would pass 65535, the fragment offset is not
    /// a multiple of 8, or dscp/ecn do not fit their 6/2 bits.
    bool emit(std::span<std::uint8_t> out, const Checksum& checksum) const noexcept;

    bool operator==(const Ipv4Repr&) const = default;
};

}  // namespace netloom::wire
