// wire/udp.hpp — UDP datagrams (RFC 768) over IPv4.
//
// Contract: `UdpView::parse` takes the IP payload and accepts it when 8 <= length field <= its
// size; the view then covers exactly `length()` bytes (bytes after it are ignored). A checksum
// field of 0 means "no checksum" (RFC 768) and `verify_checksum` accepts it. Emitting always
// computes the checksum; a computed 0 is sent as 0xffff, its one's-complement twin, so that it is
// not read as "none".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

class UdpView {
public:
    static constexpr std::size_t kHeaderLength = 8;

    static ParseResult<UdpView> parse(std::span<const std::uint8_t> bytes) noexcept;

    std::uint16_t source_port() const noexcept { return load_be16(bytes_.data()); }
    std::uint16_t destination_port() const noexcept { return load_be16(bytes_.data() + 2); }
    /// Header plus payload, as carried in the length field.
    std::uint16_t length() const noexcept { return load_be16(bytes_.data() + 4); }
    std::uint16_t checksum() const noexcept { return load_be16(bytes_.data() + 6); }
    std::size_t header_length() const noexcept { return kHeaderLength; }
    std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(kHeaderLength); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

    /// True when the checksum field is 0 (none sent) or the pseudo-header sum checks out.
    bool verify_checksum(const Checksum& checksum, Ipv4Address source,
                         Ipv4Address destination) const noexcept;

private:
    explicit UdpView(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    std::span<const std::uint8_t> bytes_;
};

struct UdpRepr {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::span<const std::uint8_t> payload;

    static ParseResult<UdpRepr> parse(const UdpView& view) noexcept;
    static constexpr std::size_t header_len() noexcept { return UdpView::kHeaderLength; }
    std::size_t buffer_len() const noexcept { return header_len() + payload.size(); }

    /// Writes header and payload (copied unless it already sits right after the header) into
    /// the front of `out` and fills the checksum. Returns the bytes written, buffer_len(), or 0
    /// when `out` is too small or the datagram would pass 65535 bytes.
    std::size_t emit(std::span<std::uint8_t> out, Ipv4Address source, Ipv4Address destination,
                     const Checksum& checksum) const noexcept;

    /// Computes and stores the checksum of a complete datagram (header and payload, 8..65535
    /// bytes, length field already set); does nothing to a buffer outside that range.
    static void fill_checksum(std::span<std::uint8_t> datagram, Ipv4Address source,
                              Ipv4Address destination, const Checksum& checksum) noexcept;
};

}  // namespace netloom::wire
