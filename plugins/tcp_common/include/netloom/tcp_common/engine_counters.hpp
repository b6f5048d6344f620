// engine_counters.hpp — the one list of a TCP engine's counters (`<stack>/tcp` in the stats
// output): each name is written once, here, and both engines report exactly these names through
// FrontHalf::visit_counters (tests/tcp_engines/counters_test.cpp holds them to it).
//
// Contract: `Counter` enumerates the list in order, `kCounterNames[c]` is the name of counter
// `c` as it appears in the stats output (stable across versions: tests and scripts read them).
// Names ending in `_current` are gauges, computed when read; every other value only grows.
// `EngineCounters` is the storage: one 64-bit value per counter, indexed by `Counter`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace netloom::tcp {

// X(name): one line per counter. What each one counts is said beside it.
#define NETLOOM_TCP_COUNTERS(X)                                                                    \
    X(segments_received)          /* every segment the IP layer handed in */                       \
    X(segments_sent)              /* every segment handed to the IP layer */                       \
    X(rx_malformed)               /* header too short, or a bad data offset */                     \
    X(rx_bad_checksum)            /* checksum failed */                                            \
    X(rx_bad_options)             /* an option with a bad length or past the header */             \
    X(rx_port_zero)               /* source or destination port 0 */                               \
    X(rx_not_unicast)             /* to a broadcast/multicast address (RFC 1122 4.2.3.10) */       \
    X(rx_syn_fin)                 /* SYN and FIN together (RFC 9293 3.1: meaningless) */           \
    X(rx_no_connection)           /* no connection and no listener: answered with RST */           \
    X(rst_sent)                   /* RSTs sent, of any origin */                                   \
    X(tx_dropped)                 /* the IP layer refused a segment */                             \
    X(syn_cookies_sent)           /* SYN-ACKs carrying a cookie (RFC 4987 3.6) */                  \
    X(syn_cookies_accepted)       /* connections opened from a returning cookie */                 \
    X(syn_cookies_rejected)       /* ACKs to a listener whose cookie failed */                     \
    X(listen_overflows)           /* SYN or completing ACK dropped: accept queue full */           \
    X(listen_drops)               /* SYN dropped: half-open set or table full, no cookie */        \
    X(connections_opened)         /* active and passive connections that reached ESTABLISHED */    \
    X(connections_reset)          /* ended by the peer's RST (TcpError::reset) */                  \
    X(connections_aborted)        /* ended by a local abort: abort(), close with unread data... */ \
    X(connections_timed_out)      /* ended by retransmission, keepalive or connect timeout */      \
    X(connections_refused)        /* opening refused (RST or ICMP port/protocol unreachable) */    \
    X(connections_unreachable)    /* ended by ICMP unreachable or ARP failure */                   \
    X(time_wait_reused)           /* TIME-WAIT 4-tuples reopened by a new SYN (RFC 6191) */        \
    X(time_wait_reused_active)    /* TIME-WAIT 4-tuples taken over by a connect() */               \
    X(time_wait_overflows)        /* closed without TIME-WAIT: max_time_wait reached */            \
    X(ephemeral_exhausted)        /* connect() found no usable local port (RFC 6056) */            \
    X(icmp_errors)                /* ICMP errors about one of our connections */                   \
    X(rx_unacceptable)            /* outside the receive window (RFC 9293 3.10.7.4) */             \
    X(rx_ack_unsent)              /* ACK of unsent (or far too old) data (RFC 5961 5.2) */         \
    X(challenge_acks)             /* RFC 5961 challenge ACKs sent (within the budget, 7) */        \
    X(rx_rst_ignored)             /* RST out of window or in TIME-WAIT */                          \
    X(rx_paws)                    /* PAWS rejections (RFC 7323 5.3) */                             \
    X(rx_no_timestamp)            /* no TSopt although negotiated (RFC 7323 3.2) */                \
    X(rx_store_failed)            /* accepted bytes the engine could not store (a bug): aborted */ \
    X(retransmits)                /* segments resent, over every connection ever */                \
    X(rto_count)                  /* retransmission timeouts, likewise */                          \
    X(fast_retransmits)           /* fast retransmits, likewise */                                 \
    X(sack_recoveries)            /* SACK loss recoveries (RFC 6675), likewise */                  \
    X(connections_current)        /* gauge: connections in the table (TIME-WAIT included) */       \
    X(time_wait_current)          /* gauge: connections in TIME-WAIT */                            \
    X(memory_bytes_current)       /* gauge: memory_in_use() */                                     \
    X(memory_bytes_peak)          /* highest memory_in_use() so far (memory_budget.hpp) */         \
    X(memory_pressure_entered)    /* memory pressure episodes begun (memory_budget.hpp) */         \
    X(rx_dropped_memory)          /* in-order data dropped at the hard limit (the peer resends) */ \
    X(ooo_dropped_memory)         /* out-of-order data dropped under memory pressure */            \
    X(connections_refused_memory) /* SYNs, cookie ACKs, connect()s refused under pressure */       \
    X(sends_refused_memory)       /* app sends refused at the hard limit (writers wait) */

enum class Counter : std::uint8_t {
#define NETLOOM_TCP_COUNTER_ENUM(name) name,
    NETLOOM_TCP_COUNTERS(NETLOOM_TCP_COUNTER_ENUM)
#undef NETLOOM_TCP_COUNTER_ENUM
};

inline constexpr std::array kCounterNames = {
#define NETLOOM_TCP_COUNTER_NAME(name) std::string_view(#name),
    NETLOOM_TCP_COUNTERS(NETLOOM_TCP_COUNTER_NAME)
#undef NETLOOM_TCP_COUNTER_NAME
};

inline constexpr std::size_t kCounterCount = kCounterNames.size();

struct EngineCounters {
    std::array<std::uint64_t, kCounterCount> values{};

    std::uint64_t& operator[](Counter c) noexcept { return values[static_cast<std::size_t>(c)]; }
    std::uint64_t operator[](Counter c) const noexcept {
        return values[static_cast<std::size_t>(c)];
    }
};

}  // namespace netloom::tcp
