// wire/tcp.hpp — TCP segments (RFC 9293 3.1) and the options netloom understands.
//
// Contract: `TcpView::parse` takes the IP payload and accepts it when it holds 20 bytes and
// 5 <= data offset and data offset * 4 <= its size. Options are not checked there: `TcpRepr::parse`
// (or `parse_tcp_options`) reads them and refuses a malformed list with `bad_option`: a length of
// 0 or 1, a length running past the options area, or a known option with the wrong length (MSS
// 4, window scale 3, SACK-permitted 2, SACK 2+8n with n 1..4, timestamps 10). Unknown options are
// skipped by their length; anything after End of Option List is ignored (RFC 9293 3.2).
// `TcpRepr::emit` lays options out the way Linux does (MSS, SACK-permitted+timestamps, NOP+window
// scale, NOP NOP+SACK), every one 4-byte aligned; SACK blocks that do not fit the 40 option bytes
// are left out, the first ones (the most recent, RFC 2018 4) kept. The window scale is carried
// as received; clamping it to 14 (RFC 7323 2.3) is the engine's job.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

/// Bits of the TCP flags byte (RFC 9293 3.1; ECE and CWR from RFC 3168).
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

enum class TcpOptionKind : std::uint8_t {
    end = 0,             ///< End of Option List (RFC 9293)
    nop = 1,             ///< No-Operation, used for alignment
    mss = 2,             ///< Maximum Segment Size, SYN only (RFC 9293 3.7.1)
    window_scale = 3,    ///< RFC 7323 2
    sack_permitted = 4,  ///< RFC 2018 2
    sack = 5,            ///< RFC 2018 3
    timestamps = 8,      ///< RFC 7323 3
};

/// One option as found on the wire: its kind and the bytes after its kind and length.
struct TcpOption {
    std::uint8_t kind = 0;
    std::span<const std::uint8_t> data;
};

/// Walks an options area. `next` yields every option except NOP; it returns false at the end
/// (End of Option List or end of the area, `error()` stays ok) or on a malformed length
/// (`error()` becomes bad_option). It never reads outside the span it was given.
class TcpOptionReader {
public:
    explicit TcpOptionReader(std::span<const std::uint8_t> options) noexcept : rest_(options) {}
    bool next(TcpOption& option) noexcept;
    ParseError error() const noexcept { return error_; }

private:
    std::span<const std::uint8_t> rest_;
    ParseError error_ = ParseError::ok;
};

struct TcpSackBlock {
    std::uint32_t left = 0;   ///< first sequence number of the block
    std::uint32_t right = 0;  ///< sequence number just past the block
    bool operator==(const TcpSackBlock&) const = default;
};

struct TcpTimestamps {
    std::uint32_t value = 0;  ///< TSval
    std::uint32_t echo = 0;   ///< TSecr
    bool operator==(const TcpTimestamps&) const = default;
};

struct TcpOptions {
    static constexpr std::size_t kMaxLength = 40;  // data offset 15 minus the fixed header
    static constexpr std::size_t kMaxSackBlocks = 4;

    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted = false;
    std::array<TcpSackBlock, kMaxSackBlocks> sack_blocks{};  ///< valid: the first sack_count
    std::uint8_t sack_count = 0;
    std::optional<TcpTimestamps> timestamps;

    /// SACK blocks emit() writes: as many of sack_count as fit beside the other options.
    std::size_t emitted_sack_count() const noexcept;
    /// Bytes emit() writes: a multiple of 4, at most 40.
    std::size_t encoded_length() const noexcept;
    /// Writes encoded_length() bytes at the front of `out`; false (nothing written) if shorter.
    bool emit(std::span<std::uint8_t> out) const noexcept;

    bool operator==(const TcpOptions&) const = default;
};

/// Reads a whole options area (see the contract at the top for what is refused).
ParseResult<TcpOptions> parse_tcp_options(std::span<const std::uint8_t> options) noexcept;

class TcpView {
public:
    static constexpr std::size_t kMinHeaderLength = 20;
    static constexpr std::size_t kMaxHeaderLength = 60;

    static ParseResult<TcpView> parse(std::span<const std::uint8_t> segment) noexcept;

    std::uint16_t source_port() const noexcept { return load_be16(bytes_.data()); }
    std::uint16_t destination_port() const noexcept { return load_be16(bytes_.data() + 2); }
    std::uint32_t sequence_number() const noexcept { return load_be32(bytes_.data() + 4); }
    std::uint32_t acknowledgment_number() const noexcept { return load_be32(bytes_.data() + 8); }
    /// Data offset * 4: 20..60 bytes.
    std::size_t header_length() const noexcept {
        return static_cast<std::size_t>(bytes_[12] >> 4) * 4;
    }
    /// The 4 reserved bits between data offset and flags (the old NS bit is the lowest).
    std::uint8_t reserved_bits() const noexcept { return bytes_[12] & 0x0f; }
    /// tcp_flag bits.
    std::uint8_t flags() const noexcept { return bytes_[13]; }
    bool has(std::uint8_t flag) const noexcept { return (bytes_[13] & flag) != 0; }
    std::uint16_t window() const noexcept { return load_be16(bytes_.data() + 14); }
    std::uint16_t checksum() const noexcept { return load_be16(bytes_.data() + 16); }
    std::uint16_t urgent_pointer() const noexcept { return load_be16(bytes_.data() + 18); }

    std::span<const std::uint8_t> options() const noexcept {
        return bytes_.subspan(kMinHeaderLength, header_length() - kMinHeaderLength);
    }
    std::span<const std::uint8_t> payload() const noexcept {
        return bytes_.subspan(header_length());
    }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
    /// Sequence space the segment occupies: payload bytes, plus one each for SYN and FIN.
    std::size_t sequence_length() const noexcept {
        return payload().size() + (has(tcp_flag::syn) ? 1 : 0) + (has(tcp_flag::fin) ? 1 : 0);
    }

    /// The sum over pseudo-header and segment is all ones (RFC 9293 3.1).
    bool verify_checksum(const Checksum& checksum, Ipv4Address source,
                         Ipv4Address destination) const noexcept;

private:
    explicit TcpView(std::span<const std::uint8_t> segment) noexcept : bytes_(segment) {}

    std::span<const std::uint8_t> bytes_;
};

struct TcpRepr {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint32_t sequence_number = 0;
    std::uint32_t acknowledgment_number = 0;
    std::uint8_t flags = 0;  ///< tcp_flag bits
    std::uint16_t window = 0;
    std::uint16_t urgent_pointer = 0;
    TcpOptions options;
    std::span<const std::uint8_t> payload;

    /// Fails with bad_option when the options area is malformed.
    static ParseResult<TcpRepr> parse(const TcpView& view) noexcept;

    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    /// Fixed header plus encoded options: what to prepend before emit_header.
    std::size_t header_len() const noexcept {
        return TcpView::kMinHeaderLength + options.encoded_length();
    }
    std::size_t buffer_len() const noexcept { return header_len() + payload.size(); }

    /// Writes header_len() bytes (checksum field zero) at the front of `out`; false if shorter.
    bool emit_header(std::span<std::uint8_t> out) const noexcept;
    /// Writes header, options and payload (copied unless already right after the header) into
    /// the front of `out` and fills the checksum. Returns buffer_len(), or 0 when `out` is too
    /// small or the segment would pass 65535 bytes.
    std::size_t emit(std::span<std::uint8_t> out, Ipv4Address source, Ipv4Address destination,
                     const Checksum& checksum) const noexcept;

    /// Computes and stores the checksum of a complete segment (header written, payload after it,
    /// 20..65535 bytes); does nothing to a buffer outside that range. The zero-copy path:
    /// `emit_header(packet.prepend(repr.header_len()))`, then this over the whole segment.
    static void fill_checksum(std::span<std::uint8_t> segment, Ipv4Address source,
                              Ipv4Address destination, const Checksum& checksum) noexcept;
};

}  // namespace netloom::wire
