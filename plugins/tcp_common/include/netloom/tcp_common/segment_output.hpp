// segment_output.hpp — one outgoing TCP segment built into a Packet in a single pass over its
// payload, for both engines' send paths.
//
// Contract: `build_segment` writes `header`'s fixed header and options (its `payload` span is
// ignored) at the front of a fresh Packet (Packet::kDefaultHeadroom in front for IP and the
// link), copies `payload` (at most two pieces, e.g. SendBuffer::view across the ring's wrap)
// right after it and fills the checksum (RFC 9293 3.1, pseudo-header from `source` and
// `destination`), summing the payload while copying it (Checksum::copy_partial): one copy from
// the send buffer to the wire, no second pass. Returns an empty Packet if the segment would
// pass 65535 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "netloom/checksum.hpp"
#include "netloom/packet.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::tcp {

using PayloadPieces = std::array<std::span<const std::uint8_t>, 2>;

Packet build_segment(const wire::TcpRepr& header, const PayloadPieces& payload,
                     wire::Ipv4Address source, wire::Ipv4Address destination,
                     const Checksum& checksum);

}  // namespace netloom::tcp
