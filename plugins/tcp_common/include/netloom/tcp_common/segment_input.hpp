// segment_input.hpp — the checks every received TCP segment passes before demultiplexing, and
// its normalisation into tcp::Segment (segment.hpp), the form both engines consume.
//
// Contract: `read_segment` checks, in this order, that the bytes parse as a header, that the
// checksum holds (unless the packet carries Packet::kChecksumVerified), that the options
// parse, that neither port is 0, that the destination is `local` (our unicast address) and
// that SYN and FIN are not both set. The first failed check is returned as the DropReason
// (the caller counts it) and `out` is then unspecified; on success `out` borrows `packet`
// (payload span and `packet` pointer) and lives no longer than it. Pure: no allocation.
#pragma once

#include <optional>

#include "netloom/checksum.hpp"
#include "netloom/ip.hpp"
#include "netloom/packet.hpp"
#include "netloom/tcp_common/drop_reason.hpp"
#include "netloom/tcp_common/segment.hpp"

namespace netloom::tcp {

std::optional<DropReason> read_segment(const IpMeta& meta, const Packet& packet,
                                       const Checksum& checksum, wire::Ipv4Address local,
                                       Segment& out) noexcept;

/// The header's control bits as they were on the wire, for what still takes them as bits
/// (SYN, FIN or RST from `control`, ACK if present, PSH).
std::uint8_t wire_flags(const Segment& segment) noexcept;

/// RFC 9293 3.10.7.1: the RST answering `segment` where no connection exists (it must not be
/// a RST itself): <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
/// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Ports swapped; no options, window 0.
wire::TcpRepr rst_for_closed(const Segment& segment) noexcept;

}  // namespace netloom::tcp
