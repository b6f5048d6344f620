// segment.hpp — the values the pure core consumes and produces: Segment (a received segment:
// tcp_common's tcp::Segment, whose payload borrows the received packet), OutgoingSegment (one
// segment to send, its payload described as a range of the send buffer), Outputs (segments to
// emit, received bytes to keep, user events) and Config.
//
// Contract: the core never owns payload bytes on their way through. Inbound, a rule that keeps
// text says which bytes in Outputs::keep (a range of the segment's payload and the receive-ring
// position it goes to, already accounted for in the Tcb); the caller stores them there
// (`recv_buffer.store`, a slice of the segment's packet) before the next read. Outbound, an
// OutgoingSegment carries `payload_length` bytes of the send buffer starting at its `seq` (the
// buffer holds the bytes from SND.UNA on, so they sit at offset seq - SND.UNA); the caller copies
// them into the packet right after the call that produced the segment. `seq_len()` is the
// sequence space an outgoing segment occupies (payload plus one for SYN and one for FIN, RFC
// 9293 3.4).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "netloom/tcp.hpp"
#include "netloom/tcp_common/engine_options.hpp"
#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/segment.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/tcp_common/siphash.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::utcp {

using tcp::SeqNum;
using Time = std::chrono::nanoseconds;  ///< absolute engine time, passed in (never read)

/// A received segment (tcp_common/segment.hpp): the payload is borrowed for the call only.
using tcp::Segment;

/// One segment for the shell to send.
struct OutgoingSegment {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags = 0;  ///< wire::tcp_flag bits
    std::uint16_t window = 0;
    wire::TcpOptions options;
    /// Bytes of the send buffer from `seq` on that this segment carries.
    std::uint32_t payload_length = 0;
    /// An RFC 5961 challenge ACK: the shell sends it only within its engine-wide budget
    /// (RFC 5961 7), so the core leaves no state depending on it having been sent.
    bool challenge_ack = false;

    bool operator==(const OutgoingSegment&) const = default;

    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    std::uint32_t seq_len() const noexcept {
        return payload_length + (has(wire::tcp_flag::syn) ? 1 : 0) +
               (has(wire::tcp_flag::fin) ? 1 : 0);
    }
    /// The header fields as a wire Repr (payload left empty: the shell adds the bytes).
    wire::TcpRepr header() const noexcept;
};

/// Received text the core accepted: payload bytes [payload_offset, payload_offset + length)
/// go to receive-buffer position `ring_position` (ReassemblyBuffer::store).
struct KeepRange {
    std::uint32_t payload_offset = 0;
    std::uint32_t length = 0;
    std::uint32_t ring_position = 0;
    bool operator==(const KeepRange&) const = default;
};

/// What one transition asks the shell to do.
/// What a rule noticed about a segment it dropped or answered, for the shell's counters.
enum Note : std::uint32_t {
    kNoteUnacceptable = 1u << 0,  ///< outside the receive window (RFC 9293 3.10.7.4 first)
    kNoteAckUnsent = 1u << 1,     ///< ACK of data never sent, or too old (RFC 5961 5.2)
    kNoteChallengeAck = 1u << 2,  ///< a challenge ACK was produced (RFC 5961 3-5; budget: shell)
    kNoteRstIgnored = 1u << 3,    ///< RST out of window or in TIME-WAIT (RFC 5961 3, RFC 1337)
    kNotePaws = 1u << 4,          ///< stale timestamp (RFC 7323 5.3)
    kNoteNoTimestamp = 1u << 5,   ///< no TSopt although negotiated (RFC 7323 3.2)
    kNoteOooDroppedMemory = 1u << 6,  ///< out-of-order text dropped: memory pressure
    kNoteRxDroppedMemory = 1u << 7,   ///< in-order text dropped: the memory limit
};

/// What one transition asks the shell to do. Reusable: clear() empties it and keeps the
/// segment vector's storage, so a shell that keeps one Outputs allocates nothing per call.
struct Outputs {
    std::vector<OutgoingSegment> segments;  ///< in emission order
    KeepRange keep;                         ///< received text to store (length 0: none)
    std::uint32_t events = 0;               ///< TcpEvent bits for the user
    TcpError error = TcpError::none;
    std::uint32_t notes = 0;  ///< Note bits

    void add_event(std::uint32_t event) noexcept { events |= event; }
    void note(Note n) noexcept { notes |= n; }
    void clear() noexcept {
        segments.clear();
        keep = {};
        events = 0;
        error = TcpError::none;
        notes = 0;
    }
};

/// Per-connection parameters: the `tcp:` keys every connection shares (defaults and bounds in
/// tcp_common/engine_options.hpp, the only place they are written) plus the secrets the shell
/// draws. Connections share one immutable copy (Tcb::config is a shared_ptr), so a field costs
/// nothing per connection.
struct Config : tcp::ConnectionOptions {
    tcp::SipKey isn_key{};        ///< RFC 6528 secret (drawn by the shell)
    tcp::SipKey ts_key{};         ///< RFC 7323 5.4 TSval offset key (drawn by the shell)
    std::uint32_t ts_offset = 0;  ///< added to every connection's TSval
    /// RFC 7323 5.4 / 7.1: also add a keyed hash of the 4-tuple (key: ts_key), so TSval
    /// reveals neither uptime nor how two connections' clocks relate (Linux does the same).
    bool ts_offset_per_connection = false;
};

}  // namespace netloom::utcp
