// tcb.hpp — the Transmission Control Block (RFC 9293 3.3.1) as a copyable value: the whole state
// of one connection, including its buffers, owned by the pure core.
//
// Contract: every field is plain data; the core's transitions take a Tcb& and `now` and mutate
// nothing else. Buffers: `send_queue` holds the bytes from SND.UNA onwards (sent-unacked, then
// unsent), at most config.sndbuf; `recv_queue` holds in-order bytes not yet read by the user;
// `ooo` holds out-of-order segments above RCV.NXT. recv_queue + ooo bytes never exceed
// config.rcvbuf (excess is trimmed before queueing). SYN and FIN occupy sequence space but no
// buffer bytes: our SYN is sent while SND.UNA == ISS, our FIN sits at `fin_seq()` once the user
// shut down writing. Timers are absolute deadlines (`std::optional<Time>`, empty = stopped).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/segment.hpp"
#include "netloom/tcp_common/congestion.hpp"
#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/sack_receiver.hpp"
#include "netloom/tcp_common/sack_scoreboard.hpp"

namespace netloom::utcp {

struct Timers {
    std::optional<Time> rexmt;           ///< retransmission (RFC 6298)
    std::optional<Time> persist;         ///< zero-window probe (not driven yet)
    std::optional<Time> delack;          ///< delayed ACK (not driven yet: ACKs are immediate)
    std::optional<Time> keepalive;       ///< RFC 1122 4.2.3.6 (not driven yet)
    std::optional<Time> time_wait;       ///< 2*MSL (RFC 9293 3.10.7.4 "TIME-WAIT")
    std::optional<Time> conn_establish;  ///< connection-establishment deadline
};

struct OutOfOrderSegment {
    SeqNum seq;
    std::vector<std::uint8_t> data;
};

struct Tcb {
    explicit Tcb(const Config& cfg, const tcp::FourTuple& tuple_);

    Config config;
    tcp::FourTuple tuple;
    TcpState state = TcpState::closed;
    TcpError error = TcpError::none;
    bool passive = false;  ///< opened from a listener (RST in SYN-RECEIVED returns to LISTEN)

    // Send sequence space (RFC 9293 3.3.1 figure 4).
    SeqNum iss, snd_una, snd_nxt, snd_wl1, snd_wl2;
    SeqNum snd_max;                 ///< highest SND.NXT ever (SND.NXT rewinds on RTO)
    std::uint32_t snd_wnd = 0;      ///< scaled peer window
    std::uint32_t max_snd_wnd = 0;  ///< RFC 5961 5.2 MAX.SND.WND
    // Receive sequence space (RFC 9293 3.3.1 figure 5).
    SeqNum irs, rcv_nxt;
    SeqNum rcv_adv;  ///< right edge we advertised; never moves left (RFC 9293 3.8.6.2.2)

    // Negotiated options.
    std::uint16_t snd_mss = 536;  ///< peer's MSS (RFC 9293 3.7.1 default 536)
    std::uint8_t snd_wscale = 0;  ///< shift applied to the peer's window field
    std::uint8_t rcv_wscale = 0;  ///< shift applied to ours
    bool wscale_ok = false, sack_ok = false, ts_ok = false;
    std::uint32_t ts_recent = 0;  ///< RFC 7323 4.3 TS.Recent
    SeqNum last_ack_sent;         ///< RFC 7323 4.3 Last.ACK.sent

    tcp::RtoEstimator rto;
    tcp::CongestionControl cc;
    tcp::SackReceiver sack_rx;
    tcp::SackScoreboard scoreboard;
    Timers timers;
    std::uint32_t rexmt_count = 0;  ///< consecutive RTOs for the same data
    std::uint32_t dup_acks = 0;     ///< consecutive duplicate ACKs (RFC 5681 3.2)
    std::optional<SeqNum> recover;  ///< RFC 6582 "recover": SND.MAX at the last loss
    std::optional<SeqNum> rtt_seq;  ///< Karn: timed segment end (non-timestamp RTT)
    Time rtt_start{0};

    std::deque<std::uint8_t> send_queue;
    bool fin_queued = false;  ///< user shut down writing: a FIN follows the queued bytes
    bool fin_acked = false;
    std::deque<std::uint8_t> recv_queue;
    std::vector<OutOfOrderSegment> ooo;
    std::optional<SeqNum> ooo_fin;  ///< a FIN seen above RCV.NXT
    bool fin_received = false;      ///< peer's FIN is in sequence (EOF after recv_queue)

    // RFC 5961 7: challenge-ACK budget, refilled once per second of `now`.
    std::uint32_t challenge_tokens = 0;
    Time challenge_refill{0};

    // Counters for TcpInfo.
    std::uint64_t retransmits = 0, rto_count = 0, fast_retransmits = 0, segments_sent = 0,
                  segments_received = 0;

    /// Bytes of send_queue already sent (between SND.UNA and SND.NXT, SYN/FIN excluded).
    std::uint32_t bytes_sent_unacked() const noexcept;
    /// Sequence number of our FIN (meaningful once fin_queued).
    SeqNum fin_seq() const noexcept;
    std::uint32_t ooo_bytes() const noexcept;
    /// Receive buffer space not holding unread or out-of-order bytes.
    std::uint32_t rcv_free() const noexcept;
    /// RCV.WND: what remains of the window we advertised.
    std::uint32_t rcv_wnd() const noexcept { return tcp::forward_distance(rcv_nxt, rcv_adv); }
    std::uint32_t flight_size() const noexcept { return tcp::forward_distance(snd_una, snd_nxt); }
    /// Largest payload in one segment (MSS minus the timestamp option when in use).
    std::uint32_t max_payload() const noexcept;
    bool synchronized() const noexcept;
    TcpInfo info() const;
};

/// NewReno or CUBIC (config.cubic) for segments of `mss` payload bytes.
tcp::CongestionControl make_congestion_control(const Config& cfg, std::uint32_t mss);

/// RFC 7323 3: our TSval clock (milliseconds of `now`, plus the per-connection offset).
std::uint32_t ts_clock(const Tcb& tcb, Time now) noexcept;

}  // namespace netloom::utcp
