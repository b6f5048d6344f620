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
#include <vector>

#include "netloom/tcp.hpp"
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
struct Outputs {
    std::vector<Segment> segments;  ///< in emission order
    std::uint32_t events = 0;       ///< TcpEvent bits for the user
    TcpError error = TcpError::none;

    void add_event(std::uint32_t event) noexcept { events |= event; }
};

/// Per-connection parameters; copied into each TCB (the core has no globals).
struct Config {
    std::uint16_t mss = 1460;           ///< MSS we advertise (our receive side)
    std::uint32_t rcvbuf = 256 * 1024;  ///< receive buffer: in-order + out-of-order bytes
    std::uint32_t sndbuf = 256 * 1024;  ///< send buffer: unacked + unsent bytes
    bool window_scaling = true;         ///< RFC 7323 2
    bool sack = true;                   ///< RFC 2018
    bool timestamps = true;             ///< RFC 7323 3
    std::uint32_t ts_offset = 0;        ///< added to TSval (random per connection, input)
    std::chrono::nanoseconds msl = std::chrono::seconds(30);  ///< TIME_WAIT lasts 2 * msl
    std::uint32_t max_retransmits = 15;     ///< data: give up after this many RTOs in a row
    std::uint32_t max_syn_retransmits = 6;  ///< SYN / SYN-ACK retransmissions
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(75);  ///< RFC 1122 4.2.3.5
    std::uint32_t challenge_ack_limit = 1000;  ///< challenge ACKs per second (RFC 5961 7)
    bool cubic = false;                        ///< congestion control: NewReno or CUBIC
    tcp::RtoConfig rto;
    tcp::SipKey isn_key{};  ///< RFC 6528 secret (drawn by the shell)
};

}  // namespace netloom::utcp
