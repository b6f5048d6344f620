// segment.hpp — the values the pure core consumes and produces: Segment (one TCP segment, header
// fields plus owned payload bytes), Outputs (segments to emit and user events) and Config.
//
// Contract: a Segment is a plain value; `seq_len()` is the sequence space it occupies (payload
// plus one for SYN and one for FIN, RFC 9293 3.4). `from_repr`/`to_repr` convert to and from the
// wire Repr; `to_repr`'s payload span points into the Segment, which must outlive it. The payload
// is copied into the Segment so the core never holds pointers into buffers it does not own (the
// shell may later swap this for Packet slices without changing the rules).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "netloom/tcp.hpp"
#include "netloom/tcp_common/engine_options.hpp"
#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/tcp_common/siphash.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::utcp {

using tcp::SeqNum;
using Time = std::chrono::nanoseconds;  ///< absolute engine time, passed in (never read)

struct Segment {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags = 0;  ///< wire::tcp_flag bits
    std::uint16_t window = 0;
    wire::TcpOptions options;
    std::vector<std::uint8_t> payload;
    /// An RFC 5961 challenge ACK: the shell sends it only within its engine-wide budget
    /// (RFC 5961 7), so the core leaves no state depending on it having been sent.
    bool challenge_ack = false;

    bool operator==(const Segment&) const = default;

    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    std::uint32_t seq_len() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) + (has(wire::tcp_flag::syn) ? 1 : 0) +
               (has(wire::tcp_flag::fin) ? 1 : 0);
    }
};

Segment from_repr(const wire::TcpRepr& repr);
wire::TcpRepr to_repr(const Segment& segment) noexcept;

/// What one transition asks the shell to do.
/// What a rule noticed about a segment it dropped or answered, for the shell's counters.
enum Note : std::uint32_t {
    kNoteUnacceptable = 1u << 0,  ///< outside the receive window (RFC 9293 3.10.7.4 first)
    kNoteAckUnsent = 1u << 1,     ///< ACK of data never sent, or too old (RFC 5961 5.2)
    kNoteChallengeAck = 1u << 2,  ///< a challenge ACK was produced (RFC 5961 3-5; budget: shell)
    kNoteRstIgnored = 1u << 3,    ///< RST out of window or in TIME-WAIT (RFC 5961 3, RFC 1337)
    kNotePaws = 1u << 4,          ///< stale timestamp (RFC 7323 5.3)
    kNoteNoTimestamp = 1u << 5,   ///< no TSopt although negotiated (RFC 7323 3.2)
};

struct Outputs {
    std::vector<Segment> segments;  ///< in emission order
    std::uint32_t events = 0;       ///< TcpEvent bits for the user
    TcpError error = TcpError::none;
    std::uint32_t notes = 0;  ///< Note bits

    void add_event(std::uint32_t event) noexcept { events |= event; }
    void note(Note n) noexcept { notes |= n; }
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
