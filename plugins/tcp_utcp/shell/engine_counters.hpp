// engine_counters.hpp — the engine-wide counters of tcp_utcp (names are part of the stats
// output that tests read; see README.md). Per-connection figures are in TcpInfo instead.
#pragma once

#include <cstdint>

#include "netloom/counters.hpp"

namespace netloom::utcp {

struct EngineCounters {
    std::uint64_t segments_received = 0;
    std::uint64_t segments_sent = 0;
    std::uint64_t rx_bad_checksum = 0;
    std::uint64_t rx_malformed = 0;  ///< truncated, bad data offset, bad option lengths, port 0
    std::uint64_t rx_syn_fin = 0;
    std::uint64_t rx_no_connection = 0;  ///< no socket and no listener (answered with RST)
    std::uint64_t rst_sent = 0;
    std::uint64_t tx_dropped = 0;  ///< the IP layer refused a segment
    std::uint64_t syn_cookies_sent = 0;
    std::uint64_t syn_cookies_accepted = 0;
    std::uint64_t syn_cookies_rejected = 0;     ///< an ACK to a listener whose cookie failed
    std::uint64_t listen_overflows = 0;         ///< SYN or cookie ACK dropped: accept queue full
    std::uint64_t listen_drops = 0;             ///< SYN dropped: half-open set full, no cookies
    std::uint64_t connections_opened = 0;       ///< active + passive that reached ESTABLISHED
    std::uint64_t connections_reset = 0;        ///< ended with an error
    std::uint64_t time_wait_reused = 0;         ///< TIME-WAIT 4-tuples reopened by a new SYN
    std::uint64_t time_wait_reused_active = 0;  ///< TIME-WAIT 4-tuples taken by a connect()
    std::uint64_t ephemeral_exhausted = 0;      ///< connect() found no usable local port
    std::uint64_t icmp_errors = 0;
    std::uint64_t rx_not_unicast = 0;  ///< to a broadcast/multicast address (RFC 1122 4.2.3.10)
    std::uint64_t time_wait_overflows = 0;  ///< closed without TIME-WAIT: max_time_wait reached
    // What the core noted about segments it dropped or answered (Outputs::notes).
    std::uint64_t rx_unacceptable = 0;  ///< outside the receive window
    std::uint64_t rx_ack_unsent = 0;    ///< ACK of unsent (or far too old) data, RFC 5961 5.2
    std::uint64_t challenge_acks = 0;   ///< RFC 5961 challenge ACKs sent
    std::uint64_t rx_rst_ignored = 0;   ///< RST out of window or in TIME-WAIT
    std::uint64_t rx_paws = 0;          ///< PAWS rejections (RFC 7323 5.3)
    std::uint64_t rx_no_timestamp = 0;  ///< no TSopt after negotiation (RFC 7323 3.2)
    // Sums over connections as they retire, plus live ones at read time (see visit).
    std::uint64_t retransmits = 0, rto_count = 0, fast_retransmits = 0, sack_recoveries = 0;
};

}  // namespace netloom::utcp
