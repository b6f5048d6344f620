// segment.cpp — conversions between Segment and wire::TcpRepr.
#include "core/segment.hpp"

namespace netloom::utcp {

Segment from_repr(const wire::TcpRepr& repr) {
    Segment segment;
    segment.source_port = repr.source_port;
    segment.destination_port = repr.destination_port;
    segment.seq = SeqNum(repr.sequence_number);
    segment.ack = SeqNum(repr.acknowledgment_number);
    segment.flags = repr.flags;
    segment.window = repr.window;
    segment.options = repr.options;
    segment.payload.assign(repr.payload.begin(), repr.payload.end());
    return segment;
}

wire::TcpRepr to_repr(const Segment& segment) noexcept {
    wire::TcpRepr repr;
    repr.source_port = segment.source_port;
    repr.destination_port = segment.destination_port;
    repr.sequence_number = segment.seq.value();
    repr.acknowledgment_number = segment.ack.value();
    repr.flags = segment.flags;
    repr.window = segment.window;
    repr.options = segment.options;
    repr.payload = segment.payload;
    return repr;
}

}  // namespace netloom::utcp
