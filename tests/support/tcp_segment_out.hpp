// tcp_segment_out.hpp — hand-made TCP segments for the test peers (RawTcpClient, ScriptedPeer,
// RawPeer and inject() in tcp_segment_peer.hpp): build a bare segment, send one from an IP
// layer with its checksum filled in, as a peer's engine would.
#pragma once

#include <cstdint>

#include "netloom/ip.hpp"
#include "netloom/packet.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::testing {

/// A segment with these ports, flags and numbers, a 4 KiB window and nothing else.
inline wire::TcpRepr segment_to(std::uint16_t source_port, std::uint16_t destination_port,
                                std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0) {
    wire::TcpRepr repr;
    repr.source_port = source_port;
    repr.destination_port = destination_port;
    repr.sequence_number = seq;
    repr.acknowledgment_number = ack;
    repr.flags = flags;
    repr.window = 4096;
    return repr;
}

/// Emits `repr` from `ip` to `to`; false when it could not be encoded.
inline bool send_segment(IpLayer& ip, wire::Ipv4Address to, const wire::TcpRepr& repr) {
    Packet packet = Packet::allocate(repr.buffer_len());
    auto bytes = packet.append(repr.buffer_len());
    if (repr.emit(bytes, ip.address().address, to, ip.checksum()) == 0) return false;
    ip.output(to, IpProtocol::tcp, std::move(packet));
    return true;
}

}  // namespace netloom::testing
