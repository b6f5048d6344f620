// segment_input.cpp — the checks of segment input and the normalised segment.
#include "netloom/tcp_common/segment_input.hpp"

namespace netloom::tcp {

using namespace wire::tcp_flag;

std::optional<DropReason> read_segment(const IpMeta& meta, const Packet& packet,
                                       const Checksum& checksum, wire::Ipv4Address local,
                                       Segment& out) noexcept {
    const auto view = wire::TcpView::parse(packet.bytes());
    if (!view) return DropReason::malformed;
    if (!(packet.flags() & Packet::kChecksumVerified) &&
        !view->verify_checksum(checksum, meta.source, meta.destination))
        return DropReason::bad_checksum;
    // The fields come straight from the view, with no TcpRepr copied in between: this runs
    // on every segment.
    auto options = wire::parse_tcp_options(view->options());
    if (!options) return DropReason::bad_options;
    out.source_port = view->source_port();
    out.destination_port = view->destination_port();
    if (out.source_port == 0 || out.destination_port == 0) return DropReason::port_zero;
    // RFC 1122 4.2.3.10: a segment to a broadcast or multicast address is discarded silently;
    // a connection only ever has our unicast address at its local end.
    if (meta.destination != local) return DropReason::not_unicast;
    const std::uint8_t flags = view->flags();
    if ((flags & syn) && (flags & fin)) return DropReason::syn_fin;
    out.seq = SeqNum(view->sequence_number());
    if (flags & ack)
        out.ack = SeqNum(view->acknowledgment_number());
    else
        out.ack.reset();
    // RFC 9293 3.10.7: RST is looked at before SYN and FIN in every state.
    out.control = (flags & rst)   ? Control::rst
                  : (flags & syn) ? Control::syn
                  : (flags & fin) ? Control::fin
                                  : Control::none;
    out.psh = (flags & psh) != 0;
    out.window = view->window();
    out.options = *options;
    out.payload = view->payload();
    out.packet = &packet;
    return std::nullopt;
}

std::uint8_t wire_flags(const Segment& segment) noexcept {
    std::uint8_t flags = segment.ack ? ack : 0;
    if (segment.psh) flags |= psh;
    switch (segment.control) {
        case Control::none: break;
        case Control::syn: flags |= syn; break;
        case Control::fin: flags |= fin; break;
        case Control::rst: flags |= rst; break;
    }
    return flags;
}

wire::TcpRepr rst_for_closed(const Segment& segment) noexcept {
    wire::TcpRepr reply;
    reply.source_port = segment.destination_port;
    reply.destination_port = segment.source_port;
    if (segment.ack) {
        reply.sequence_number = segment.ack->value();
        reply.flags = rst;
    } else {
        reply.sequence_number = 0;
        reply.acknowledgment_number = (segment.seq + segment.seq_length()).value();
        reply.flags = rst | ack;
    }
    return reply;
}

}  // namespace netloom::tcp
