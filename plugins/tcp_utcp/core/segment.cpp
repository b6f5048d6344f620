// segment.cpp — an outgoing segment's header as a wire Repr.
#include "core/segment.hpp"

namespace netloom::utcp {

wire::TcpRepr OutgoingSegment::header() const noexcept {
    wire::TcpRepr repr;
    repr.source_port = source_port;
    repr.destination_port = destination_port;
    repr.sequence_number = seq.value();
    repr.acknowledgment_number = ack.value();
    repr.flags = flags;
    repr.window = window;
    repr.options = options;
    return repr;
}

}  // namespace netloom::utcp
