// tcb.hpp — the Transmission Control Block (RFC 9293 3.3.1) as a copyable value: the whole state
// of one connection, including its buffers, owned by the pure core.
//
// Contract: the core's transitions take a Tcb& and `now` and mutate nothing else. Buffers:
// `send_buffer` (tcp_common SendBuffer) holds the bytes from SND.UNA onwards (sent-unacked, then
// unsent), at most config->sndbuf; `recv_buffer` (tcp_common ReassemblyBuffer) holds the unread
// in-order bytes and, inside the window after them, out-of-order bytes at their offset from
// RCV.NXT, config->rcvbuf bytes in all (as slices of the received packets the shell stored, or
// copies in its ring: copying a Tcb shares the slices). SYN and FIN occupy sequence space but no
// buffer bytes: our SYN is sent while SND.UNA == ISS, our FIN sits at `fin_seq()` once the user
// shut down writing. Timers are absolute deadlines (`Deadline`, empty = stopped).
// Memory: the config is shared (one immutable copy per listener or engine); both buffers, the
// SACK scoreboard and the receiver's SACK list live on the heap only while they hold something,
// so an idle ESTABLISHED connection costs sizeof(Tcb) (memory_footprint() counts it all).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include "core/segment.hpp"
#include "netloom/tcp_common/congestion.hpp"
#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/memory_budget.hpp"
#include "netloom/tcp_common/reassembly_buffer.hpp"
#include "netloom/tcp_common/sack_receiver.hpp"
#include "netloom/tcp_common/sack_scoreboard.hpp"
#include "netloom/tcp_common/send_buffer.hpp"

namespace netloom::utcp {

/// An absolute time or "stopped", in 8 bytes (std::optional<Time> takes 16), with the
/// optional-like interface the rules use.
class Deadline {
public:
    constexpr Deadline() noexcept = default;
    constexpr Deadline(Time at) noexcept : ns_(at.count()) {}  // NOLINT: assigning a time arms it
    constexpr bool has_value() const noexcept { return ns_ != kStopped; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr Time operator*() const noexcept { return Time(ns_); }
    constexpr void reset() noexcept { ns_ = kStopped; }
    constexpr bool due(Time now) const noexcept { return has_value() && Time(ns_) <= now; }
    constexpr bool operator==(const Deadline&) const noexcept = default;

private:
    static constexpr std::int64_t kStopped = std::numeric_limits<std::int64_t>::min();
    std::int64_t ns_ = kStopped;
};

struct Timers {
    Deadline rexmt;           ///< retransmission (RFC 6298), or tail loss probe (RFC 8985 7)
    Deadline persist;         ///< zero-window probe / SWS override (RFC 9293 3.8.6.1)
    Deadline delack;          ///< delayed ACK (RFC 1122 4.2.3.2)
    Deadline keepalive;       ///< RFC 1122 4.2.3.6
    Deadline time_wait;       ///< 2*MSL (RFC 9293 3.10.7.4 "TIME-WAIT")
    Deadline conn_establish;  ///< connection-establishment deadline (RFC 1122 4.2.3.5)
    Deadline fin_wait_2;      ///< FIN-WAIT-2 after a full close
};

/// A heap-allocated T that is created on demand, copied deeply and freed by reset(): for parts
/// of the TCB that most connections do not need most of the time.
template <typename T>
class Lazy {
public:
    Lazy() noexcept = default;
    Lazy(const Lazy& other) : ptr_(other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr) {}
    Lazy& operator=(const Lazy& other) {
        if (this != &other) ptr_ = other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr;
        return *this;
    }
    Lazy(Lazy&&) noexcept = default;
    Lazy& operator=(Lazy&&) noexcept = default;

    explicit operator bool() const noexcept { return ptr_ != nullptr; }
    T* get() const noexcept { return ptr_.get(); }
    T* operator->() const noexcept { return ptr_.get(); }
    T& operator*() const noexcept { return *ptr_; }
    template <typename... Args>
    T& emplace(Args&&... args) {
        ptr_ = std::make_unique<T>(std::forward<Args>(args)...);
        return *ptr_;
    }
    void reset() noexcept { ptr_.reset(); }
    std::size_t heap_bytes() const noexcept { return ptr_ ? sizeof(T) : 0; }

private:
    std::unique_ptr<T> ptr_;
};

struct Tcb {
    Tcb(std::shared_ptr<const Config> cfg, const tcp::FourTuple& tuple_);
    Tcb(const Config& cfg, const tcp::FourTuple& tuple_);

    std::shared_ptr<const Config> config;
    tcp::FourTuple tuple;
    TcpState state = TcpState::closed;
    TcpError error = TcpError::none;
    /// RFC 1122 4.2.3.9: the last soft ICMP error; reported instead of timed_out on give-up.
    TcpError soft_error = TcpError::none;
    bool passive = false;  ///< opened from a listener (RST in SYN-RECEIVED returns to LISTEN)

    // Negotiated options and per-connection switches.
    bool wscale_ok = false, sack_ok = false, ts_ok = false;
    bool nodelay = false;            ///< Nagle off (RFC 896 / RFC 9293 3.7.4)
    bool keepalive_on = false;       ///< RFC 1122 4.2.3.6
    bool user_closed = false;        ///< close_1 (not just shutdown_1): FIN-WAIT-2 may time out
    bool syn_retransmitted = false;  ///< Karn for the handshake RTT; RFC 6298 5.7
    bool tlp_pending = false;        ///< the rexmt deadline is a tail loss probe (RFC 8985 7)
    bool reorder_pending = false;    ///< the rexmt deadline ends a reordering window (RFC 8985 6.2)
    bool fin_queued = false;         ///< user shut down writing: a FIN follows the queued bytes
    bool fin_acked = false;
    bool fin_received = false;    ///< peer's FIN is in sequence (EOF after recv_buffer)
    std::uint8_t snd_wscale = 0;  ///< shift applied to the peer's window field
    std::uint8_t rcv_wscale = 0;  ///< shift applied to ours
    std::uint8_t quick_acks = 0;  ///< segments still to ACK at once after a hole was filled
    std::uint16_t snd_mss = 536;  ///< peer's MSS (RFC 9293 3.7.1 default 536), or the PMTU's
    std::uint16_t rcv_mss = 536;  ///< largest payload received: "full-sized" for delayed ACK
    /// Input: the engine's memory level, set by the shell before each rule (tcp_common
    /// memory_budget.hpp): under pressure no window opens and out-of-order text is dropped,
    /// at `hard` in-order text too.
    tcp::MemoryLevel memory_level = tcp::MemoryLevel::normal;
    /// Output: a rule kept the window shut (or dropped text) under pressure; the shell takes
    /// it (clears it) and calls window_update_1 once the pressure ends.
    bool window_held = false;

    // Send sequence space (RFC 9293 3.3.1 figure 4).
    SeqNum iss, snd_una, snd_nxt, snd_wl1, snd_wl2;
    SeqNum snd_max;                 ///< highest SND.NXT ever (SND.NXT rewinds on RTO)
    std::uint32_t snd_wnd = 0;      ///< scaled peer window
    std::uint32_t max_snd_wnd = 0;  ///< RFC 5961 5.2 MAX.SND.WND
    /// Largest window from a segment after the peer's SYN: sender SWS avoidance's Max(SND.WND)
    /// (RFC 9293 3.8.6.2.1; tcp_common sws_max_window says why the SYN's is left out).
    std::uint32_t max_snd_wnd_after_syn = 0;
    // Receive sequence space (RFC 9293 3.3.1 figure 5).
    SeqNum irs, rcv_nxt;
    SeqNum rcv_adv;        ///< right edge we advertised; never moves left (RFC 9293 3.8.6.2.2)
    SeqNum last_ack_sent;  ///< RFC 7323 4.3 Last.ACK.sent
    std::uint32_t ts_recent = 0;  ///< RFC 7323 4.3 TS.Recent
    std::uint32_t ts_offset = 0;  ///< added to our TSval clock (Config::ts_offset_per_connection)
    Time ts_recent_time{0};       ///< when TS.Recent was set (RFC 7323 5.5 24-day rule)

    tcp::RtoEstimator rto;
    tcp::CongestionControl cc;
    Lazy<tcp::SackReceiver> sack_rx;       ///< present while out-of-order data or a D-SACK is held
    Lazy<tcp::SackScoreboard> scoreboard;  ///< present while SACK ranges or recovery exist
    Timers timers;
    std::uint32_t rexmt_count = 0;        ///< consecutive RTOs for the same data
    std::uint32_t dup_acks = 0;           ///< consecutive duplicate ACKs (RFC 5681 3.2)
    std::uint16_t persist_backoff = 0;    ///< zero-window probes sent without the window opening
    std::uint16_t unanswered_probes = 0;  ///< keepalive or zero-window probes not answered
    std::optional<SeqNum> recover;        ///< RFC 6582 "recover"; cleared once SND.UNA passes it
    std::optional<SeqNum> rtt_seq;        ///< Karn: timed segment end (non-timestamp RTT)
    std::optional<SeqNum> ooo_fin;        ///< a FIN seen above RCV.NXT
    SeqNum rxt_fence;  ///< SACK recovery: SND.MAX when the current round of hole retransmits began
    Time rtt_start{0};

    tcp::SendBuffer send_buffer;
    tcp::ReassemblyBuffer recv_buffer;

    // Counters for TcpInfo.
    std::uint64_t retransmits = 0, rto_count = 0, fast_retransmits = 0, sack_recoveries = 0,
                  segments_sent = 0, segments_received = 0, bytes_sent = 0, bytes_acked = 0,
                  bytes_received = 0, dup_acks_received = 0;

    const Config& cfg() const noexcept { return *config; }
    /// Bytes of send_buffer already sent (between SND.UNA and SND.NXT, SYN/FIN excluded).
    std::uint32_t bytes_sent_unacked() const noexcept;
    /// Sequence number of our FIN (meaningful once fin_queued).
    SeqNum fin_seq() const noexcept;
    /// Receive buffer space the window may cover beyond RCV.NXT (RCV.BUFF - unread bytes).
    std::uint32_t rcv_free() const noexcept { return recv_buffer.window_space(); }
    /// RCV.WND: what remains of the window we advertised (0 once RCV.NXT reached the edge,
    /// e.g. after a FIN just past it).
    std::uint32_t rcv_wnd() const noexcept {
        return tcp::lt(rcv_nxt, rcv_adv) ? tcp::forward_distance(rcv_nxt, rcv_adv) : 0;
    }
    std::uint32_t flight_size() const noexcept { return tcp::forward_distance(snd_una, snd_nxt); }
    /// Largest payload in one segment (MSS minus the timestamp option when in use).
    std::uint32_t max_payload() const noexcept;
    bool synchronized() const noexcept;
    bool in_sack_recovery() const noexcept { return scoreboard && scoreboard->in_recovery(); }
    TcpInfo info() const;
};

/// NewReno or CUBIC (config.cubic) for segments of `mss` payload bytes.
tcp::CongestionControl make_congestion_control(const Config& cfg, std::uint32_t mss);

/// RFC 7323 3: our TSval clock (milliseconds of `now`, plus the per-connection offset).
std::uint32_t ts_clock(const Tcb& tcb, Time now) noexcept;
/// The TSval offset a connection on `tuple` gets (the same for every incarnation of a 4-tuple,
/// so a later incarnation's TSvals are greater: what TIME-WAIT reuse relies on).
std::uint32_t ts_offset_for(const Config& config, const tcp::FourTuple& tuple) noexcept;

/// Bytes this connection holds: sizeof(Tcb) plus every heap block it owns (buffers, SACK
/// state; the config only when no other connection or listener shares it).
std::size_t memory_footprint(const Tcb& tcb) noexcept;

}  // namespace netloom::utcp
