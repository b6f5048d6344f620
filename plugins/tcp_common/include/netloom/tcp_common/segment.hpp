// segment.hpp — tcp::Segment: one received TCP segment as both engines consume it, normalised
// by the shared front half (smoltcp's `TcpRepr` idea): the control bit that matters, the ACK
// field only when the ACK bit is set, and the payload as a slice of the received packet.
//
// Contract: the front half builds a Segment only from a segment that parsed, passed its
// checksum, has non-zero ports and is not SYN+FIN (those are counted drops). `control` follows
// RFC 9293 3.10.7's order of checks: RST is looked at before SYN and FIN in every state, so a
// segment with RST set is `rst` whatever else it carries. `payload` and `packet` borrow the
// received Packet and are valid only during the call that delivers the segment: an engine that
// keeps bytes copies them (or takes `packet->share(...)`), it never stores the span.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "netloom/packet.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::tcp {

enum class Control : std::uint8_t { none, syn, fin, rst };

struct Segment {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    SeqNum seq;
    std::optional<SeqNum> ack;  ///< present iff the ACK bit was set
    Control control = Control::none;
    bool psh = false;
    std::uint16_t window = 0;  ///< as on the wire (unscaled)
    wire::TcpOptions options;
    std::span<const std::uint8_t> payload;  ///< borrowed from `*packet`
    const Packet* packet = nullptr;         ///< the received packet holding `payload`, if any

    bool syn() const noexcept { return control == Control::syn; }
    bool fin() const noexcept { return control == Control::fin; }
    bool rst() const noexcept { return control == Control::rst; }
    /// Sequence space occupied: payload, plus one for SYN or FIN (RFC 9293 3.4).
    std::uint32_t seq_length() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) +
               (control == Control::syn || control == Control::fin ? 1u : 0u);
    }
};

}  // namespace netloom::tcp
