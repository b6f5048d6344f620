// segment_io.cpp — the shell's payload copies (contract in segment_io.hpp).
#include "shell/segment_io.hpp"

#include <cassert>

#include "netloom/tcp_common/segment_output.hpp"

namespace netloom::utcp {

bool deliver_segment(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    deliver_in(tcb, segment, now, out);
    const KeepRange& keep = out.keep;
    if (keep.length == 0) return true;
    const bool inside = std::size_t{keep.payload_offset} + keep.length <= segment.payload.size();
    // The core accounted these bytes already: naming bytes it was not given is its bug.
    assert(inside && "the core kept bytes outside the segment's payload");
    if (!inside) return false;
    const auto kept = segment.payload.subspan(keep.payload_offset, keep.length);
    return tcb.recv_buffer.store(keep.ring_position, kept, segment.packet);
}

Packet packet_for(const OutgoingSegment& segment, const tcp::FourTuple& tuple, const Tcb* tcb,
                  const Checksum& checksum) {
    tcp::PayloadPieces payload{};
    if (segment.payload_length > 0) {
        if (!tcb) return {};
        payload = tcb->send_buffer.view(tcp::forward_distance(tcb->snd_una, segment.seq),
                                        segment.payload_length);
        if (payload[0].size() + payload[1].size() != segment.payload_length) return {};
    }
    return tcp::build_segment(segment.header(), payload, tuple.local_address, tuple.remote_address,
                              checksum);
}

}  // namespace netloom::utcp
