// pcb.hpp — Pcb: one TCP connection as a stateful object, in the mirage-tcpip style. It owns its
// receive queue (reassembly ring + SACK blocks), its transmit queue (send ring), its window and
// RTT module (sequence variables, RFC 6298 estimator, congestion control) and its own scheduler
// timers; RFC 9293 state transitions are methods, segment arrival, user calls and timer expiries
// are the entry points.
//
// Contract: single-threaded on the scheduler's thread. A Pcb is shared (shared_ptr) by the engine
// while its 4-tuple is in use and by the user's handle while it is held; timers hold weak
// references. It talks to the rest of the stack only through `PcbHost` (the engine): emitting
// packets, reporting events, establishment and retirement. Events are accumulated in
// `pending_events` and delivered by the host from a posted callback, never synchronously.
// Buffers are bounded by `sndbuf`/`rcvbuf` and allocated only while they hold bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "engine_config.hpp"
#include "netloom/ip.hpp"
#include "netloom/packet.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/congestion.hpp"
#include "netloom/tcp_common/connection_entry.hpp"
#include "netloom/tcp_common/engine_counters.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"
#include "netloom/tcp_common/isn.hpp"
#include "netloom/tcp_common/listener.hpp"
#include "netloom/tcp_common/memory_budget.hpp"
#include "netloom/tcp_common/reassembly_buffer.hpp"
#include "netloom/tcp_common/receiver_ack.hpp"
#include "netloom/tcp_common/rto.hpp"
#include "netloom/tcp_common/sack_receiver.hpp"
#include "netloom/tcp_common/sack_scoreboard.hpp"
#include "netloom/tcp_common/segment.hpp"
#include "netloom/tcp_common/send_buffer.hpp"
#include "netloom/tcp_common/seq.hpp"
#include "netloom/wire/tcp.hpp"
#include "timer.hpp"

namespace netloom::classic {

using tcp::SeqNum;

/// A received segment as the front half normalised it (tcp_common/segment.hpp): the payload
/// borrows the received packet for the call; process_text keeps what it accepts in rx_ as a
/// slice of that packet (or a copy in rx_'s ring past its bounds: reassembly_buffer.hpp).
using tcp::Segment;

class Pcb;
using tcp::Listener;

/// What a Pcb needs from its engine.
class PcbHost {
public:
    virtual Scheduler& scheduler() noexcept = 0;
    virtual IpLayer& ip() noexcept = 0;
    virtual const EngineConfig& config() const noexcept = 0;
    /// Sends a complete segment (checksum filled) from the Pcb's tuple; counts it.
    virtual void transmit(const tcp::FourTuple& tuple, Packet&& segment, bool is_rst) = 0;
    /// Accumulates events for a posted delivery.
    virtual void post_events(Pcb& pcb, std::uint32_t events) = 0;
    /// A passive connection reached ESTABLISHED (goes to its listener's accept queue).
    virtual void established(Pcb& pcb) = 0;
    /// True (and counted as a listen overflow) when the Pcb's listener has no room left in its
    /// accept queue: the ACK completing the handshake is then dropped and the peer retries.
    virtual bool accept_queue_full(const Pcb& pcb) = 0;
    /// The Pcb is entering TIME-WAIT: true if it may stay there (counted until retire()), false
    /// when max_time_wait connections already wait (it then goes straight to CLOSED).
    virtual bool admit_time_wait(Pcb& pcb) = 0;
    /// The connection reached CLOSED: forget the 4-tuple.
    virtual void retire(Pcb& pcb) = 0;
    /// RFC 5961 7: one challenge ACK from the engine-wide budget (counted); false when it is
    /// spent for this second.
    virtual bool take_challenge_ack() = 0;
    /// Counts an event of the engine's counter list (tcp_common/engine_counters.hpp).
    virtual void note(tcp::Counter counter) = 0;
    /// The engine's memory level for an event bringing `extra` bytes (tcp_common
    /// memory_budget.hpp: what each level refuses).
    virtual tcp::MemoryLevel memory_level(std::size_t extra = 0) const noexcept = 0;
    /// Memory pressure kept the Pcb's window from opening: reopen_window() it when it ends.
    virtual void window_held(Pcb& pcb) = 0;
    /// The Pcb's app was refused a send at the memory limit: writable when memory is back.
    virtual void send_refused(Pcb& pcb) = 0;
    /// The Pcb's footprint may have changed outside a segment or user call (a timer ran).
    virtual void footprint_changed(Pcb& pcb) = 0;

    /// The time for Pcbs: inside a ClockHold the instant it took, else the scheduler's clock.
    Time now() noexcept { return clock_held_ ? held_time_ : scheduler().now(); }

    /// Holds the clock for one entry point (a segment's arrival, a user's send or recv): every
    /// Pcb::now() inside it answers the instant of that event, read once, as the utcp core
    /// gets `now` once per call (reading the clock at each use was a fifth of a bulk
    /// transfer's CPU). Nested holds keep the outermost instant; no callback runs inside one
    /// (events are posted).
    class ClockHold {
    public:
        explicit ClockHold(PcbHost& host) noexcept : host_(host), outer_(host.clock_held_) {
            if (outer_) return;
            host.held_time_ = host.scheduler().now();
            host.clock_held_ = true;
        }
        ~ClockHold() {
            if (!outer_) host_.clock_held_ = false;
        }
        ClockHold(const ClockHold&) = delete;
        ClockHold& operator=(const ClockHold&) = delete;

    private:
        PcbHost& host_;
        bool outer_;
    };

protected:
    ~PcbHost() = default;

private:
    bool clock_held_ = false;
    Time held_time_{};
};

/// The send side's sequence variables and estimators (RFC 9293 3.3.1, RFC 6298, RFC 5681).
struct SendWindow {
    SeqNum iss, una, nxt, max;  ///< SND.UNA, SND.NXT, highest sent (after a go-back-N rewind)
    SeqNum wl1, wl2;
    std::uint32_t wnd = 0;      ///< peer window, scaled, bytes
    std::uint32_t max_wnd = 0;  ///< largest window the peer offered (MAX.SND.WND, RFC 5961)
    /// Largest window from a segment after the peer's SYN: sender SWS avoidance's Max(SND.WND)
    /// (RFC 9293 3.8.6.2.1; tcp_common sws_max_window says why the SYN's is left out).
    std::uint32_t max_wnd_after_syn = 0;
    std::uint8_t scale = 0;   ///< Snd.Wind.Shift
    std::uint16_t mss = 536;  ///< peer's MSS (what a segment may carry, options included)
    tcp::RtoEstimator rto;
    tcp::CongestionControl cc;
    std::uint32_t dup_acks = 0;
    /// RTOs in a row since the last new ACK: the give-up count. Not the RTO's backoff, which
    /// Karn's rule keeps past that ACK until an RTT sample (RFC 6298 5).
    std::uint32_t timeouts = 0;
    SeqNum recover;  ///< RFC 6582 "recover"
    bool in_recovery = false;
    bool recover_valid = false;
    std::optional<SeqNum> timed_seq;  ///< Karn timing without timestamps
    Time timed_at{0};
    Time last_send{0};
    SendWindow(const tcp::RtoConfig& rto_config, tcp::CongestionControl cc_) noexcept
        : rto(rto_config), cc(cc_) {}
};

/// The receive side's sequence variables (RFC 9293 3.3.1).
struct ReceiveWindow {
    SeqNum irs, nxt;
    SeqNum adv;                 ///< right edge we advertised (never moves left, RFC 7323 2.4)
    std::uint8_t scale = 0;     ///< Rcv.Wind.Shift
    std::optional<SeqNum> fin;  ///< sequence number of a FIN received out of order
    bool fin_received = false;  ///< FIN consumed (RCV.NXT passed it)
    /// Largest payload received: "full-sized" for the delayed-ACK rule (RFC 5681 4.2).
    std::uint32_t full_sized = tcp::kInitialFullSized;
    std::uint8_t quick_acks = 0;  ///< segments still to ACK at once after a gap was filled
};

/// The front half's bookkeeping (tcp_common/connection_entry.hpp) is the ConnectionEntry base.
class Pcb : public tcp::ConnectionEntry, public std::enable_shared_from_this<Pcb> {
public:
    Pcb(PcbHost& host, const tcp::FourTuple& tuple, Time now);
    ~Pcb();

    // --- opens (pcb_open.cpp) ---
    /// Active open (RFC 9293 3.10.1): send the SYN.
    void open_active();
    /// Passive open from a listener's SYN (RFC 9293 3.10.7.2): send the SYN-ACK.
    void open_passive(const Segment& syn, Listener* listener);
    /// Open from a valid SYN cookie: ESTABLISHED with `mss`, no options (RFC 4987 3.6).
    void open_from_cookie(const Segment& ack, std::uint16_t mss, Listener* listener);

    // --- segment arrival (pcb_input.cpp) ---
    void input(const Segment& segment);
    void icmp_error(const IcmpErrorReport& report);

    // --- user calls (pcb_user.cpp) ---
    std::size_t send(std::span<const std::uint8_t> data);
    std::size_t recv(std::span<std::uint8_t> out);
    /// 0 at the memory limit (the caller then waits for writable).
    std::size_t send_space() noexcept;
    std::size_t readable_bytes() const noexcept { return rx_.readable(); }
    bool eof() const noexcept { return rcv_.fin_received && rx_.readable() == 0; }
    void shutdown_write();
    void close();
    void abort();
    void set_nodelay(bool on) noexcept { nodelay_ = on; }
    /// RFC 6191: may a SYN for this TIME-WAIT connection's 4-tuple open a new incarnation?
    /// Only if it is provably newer: its TSval is past TS.Recent, or (without timestamps on
    /// either side) its sequence number is past RCV.NXT.
    bool syn_may_reopen(const Segment& syn) const noexcept;
    /// Ends TIME-WAIT early (the 4-tuple is being reused): straight to CLOSED.
    void end_time_wait();
    /// What TIME-WAIT reuse by a connect() needs to know (tcp_common/ephemeral_ports.hpp);
    /// empty unless in TIME-WAIT.
    std::optional<tcp::TimeWaitRecord> time_wait_record() const noexcept;
    /// Before open_active(): this connection takes over `old`'s 4-tuple, so its ISS must lie
    /// beyond the old sequence space (RFC 6191, RFC 9293 3.10.7.4).
    void reuse_sequence_space(const tcp::TimeWaitRecord& old) noexcept;
    /// RFC 7323 5.4: the TSval offset of every incarnation of `tuple` (the same each time, so a
    /// later incarnation's TSvals are greater).
    static std::uint32_t ts_offset_for(const tcp::FourTuple& tuple,
                                       const tcp::SipKey& key) noexcept;
    TcpInfo info() const;

    const tcp::FourTuple& tuple() const noexcept { return tuple_; }
    TcpState state() const noexcept { return state_; }
    TcpError error() const noexcept { return error_; }
    std::size_t memory_footprint() const noexcept;
    /// Memory pressure ended: a window update if the window now opens (RFC 9293 3.8.6.2.2).
    void reopen_window();
    /// After a timer's expiry (PcbTimer): the footprint may have changed.
    void after_timer() { host_.footprint_changed(*this); }
    /// Drops every timer (the engine forgets the connection, or shuts down).
    void cancel_timers() noexcept;
    /// The engine is being destroyed: CLOSED with `aborted` (no segment, no event), buffers
    /// freed; the user calls left on a handle never reach the host again.
    void engine_gone() noexcept;

    // Counts the engine sums (tcp::ConnectionTotals).
    std::uint64_t retransmits = 0, rto_count = 0, fast_retransmits = 0, sack_recoveries = 0;
    struct Stats {
        std::uint64_t bytes_sent = 0, bytes_acked = 0, bytes_received = 0;
        std::uint64_t segments_sent = 0, segments_received = 0, dup_acks = 0;
    } stats_;

private:
    // --- state transitions (pcb_state.cpp) ---
    void enter_established();
    void enter_time_wait();
    void enter_closed(TcpError error);
    void on_our_fin_acked();
    void on_fin_received();

    // --- input steps (pcb_input.cpp) ---
    void input_syn_sent(const Segment& segment);
    bool acceptable(const Segment& segment) const noexcept;
    bool check_rst(const Segment& segment);
    bool check_ack(const Segment& segment);
    void process_ack(const Segment& segment);
    void update_window(const Segment& segment);
    void process_text(const Segment& segment);
    /// RFC 2883: if SACK is on and [left, right) repeats data already received (below RCV.NXT,
    /// or out of order too when `queued` is set), the next ACK reports it. True if it did.
    bool note_duplicate(SeqNum left, SeqNum right, bool queued);
    /// True (counted) when the engine's memory level refuses `seg`'s text at `offset` past
    /// RCV.NXT (tcp_common memory_budget.hpp).
    bool memory_refuses(std::uint32_t offset, const Segment& seg);
    void negotiate(const wire::TcpOptions& options, bool from_syn_ack);
    void take_rtt_sample(const Segment& segment, SeqNum previous_una);
    void handle_dup_ack();
    void limited_transmit();
    void handle_new_ack(const Segment& segment, std::uint32_t acked);

    // --- output (pcb_output.cpp) ---
    void output();
    void send_segment(SeqNum seq, std::uint32_t length, std::uint8_t flags);
    /// Sends `repr`'s header with `payload_length` bytes of tx_ from `payload_offset` (copied
    /// into the packet with the checksum in the same pass).
    void build_and_send(const wire::TcpRepr& repr, std::uint32_t payload_offset,
                        std::uint32_t payload_length, bool is_rst);
    SeqNum fin_seq() const noexcept { return snd_.una + tx_.size(); }
    bool fin_sent() const noexcept { return fin_queued_ && !fin_acked_ && gt(snd_.nxt, fin_seq()); }
    void send_syn(bool with_ack);
    void send_ack_now();
    void send_challenge_ack();
    void send_rst(SeqNum seq);
    void retransmit_first();
    void schedule_ack();
    std::uint16_t window_field() noexcept;
    std::uint32_t payload_room() const noexcept;
    std::uint32_t flight_size() const noexcept { return snd_.nxt - snd_.una; }
    std::uint32_t data_in_queue_after_nxt() const noexcept;
    std::uint32_t ts_now() const noexcept;
    /// ts_now(), remembered as the last TSval sent: for segments about to go out.
    std::uint32_t stamp_tsval() noexcept { return last_tsval_ = ts_now(); }
    Time now() const noexcept { return host_.now(); }

    // --- SACK loss recovery, RFC 6675 (pcb_sack.cpp) ---
    std::uint32_t update_scoreboard(const Segment& segment);
    bool sack_recovery_active() const noexcept { return board_ && board_->in_recovery(); }
    /// Recovery after an RTO (RFC 6675 5.1): the scoreboard resends holes, cwnd slow-starts.
    bool timeout_recovery_active() const noexcept {
        return sack_recovery_active() && !snd_.in_recovery;
    }
    /// May a new SACK recovery start now (none running, nothing rewound, past RFC 6582 recover)?
    bool may_enter_sack_recovery() const noexcept;
    void enter_sack_recovery();
    /// RFC 8985 6.2: SACKed data above SND.UNA; SND.UNA is lost unless it arrives within the
    /// reordering window, so the retransmission timer first fires at the window's end.
    void arm_reorder_window();
    void enter_timeout_recovery();
    void sack_output();
    void release_scoreboard_if_idle() noexcept;
    /// Go-back-N: moves SND.NXT past SACKed data and bounds `length` to the next SACKed range.
    void skip_sacked(std::uint32_t& length) noexcept;

    // --- timers (pcb_timers.cpp) ---
    void on_retransmit_timer();
    void on_delayed_ack_timer();
    void on_persist_timer();
    void on_keepalive_timer();
    void on_time_wait_timer();
    void arm_retransmit();
    Time retransmit_deadline() noexcept;
    void send_tail_loss_probe();
    void probe_first_hole();
    void restart_keepalive();
    /// Gives up (retransmissions, probes): `timed_out`, or the soft ICMP error seen meanwhile
    /// (RFC 1122 4.2.3.9).
    void give_up();
    /// RFC 1191: fragmentation needed with `next_hop_mtu`.
    void lower_mss(std::uint16_t next_hop_mtu);

    PcbHost& host_;
    tcp::FourTuple tuple_;
    TcpState state_ = TcpState::closed;
    TcpError error_ = TcpError::none;
    bool passive_ = false;
    bool nodelay_ = false;
    bool user_closed_ = false;      ///< close(): no more reading (FIN-WAIT-2 timeout applies)
    bool fin_queued_ = false;       ///< shutdown_write(): FIN after the queued data
    bool fin_acked_ = false;        ///< our FIN was acknowledged
    bool probe_pending_ = false;    ///< the retransmission timer is armed as a tail loss probe
    bool probe_sent_ = false;       ///< a probe went out since the last new ACK
    bool reorder_pending_ = false;  ///< the retransmission timer ends a reordering window
    TcpError soft_error_ = TcpError::none;  ///< RFC 1122 4.2.3.9, reported only on give-up
    std::uint16_t path_mss_ = 0xffff;       ///< RFC 1191: bound from fragmentation-needed
    bool sack_ok_ = false, ts_ok_ = false, ws_ok_ = false;
    std::uint32_t ts_recent_ = 0, ts_offset_ = 0;
    std::uint32_t last_tsval_ = 0;  ///< TSval of the last segment sent (TIME-WAIT reuse)
    Time time_wait_since_{0};
    Time ts_recent_time_{0};  ///< when TS.Recent was set (RFC 7323 5.5 24-day rule)
    SeqNum last_ack_sent_;
    std::uint32_t backoff_probes_ = 0;     ///< zero-window probes since the last new ACK
    std::uint32_t unanswered_probes_ = 0;  ///< zero-window probes since the peer last spoke
    std::uint32_t syn_transmissions_ = 0;  ///< SYN / SYN-ACK sends (Karn: time only the first)
    std::uint32_t keepalive_probes_ = 0;
    Time last_received_{0};
    Time opened_at_{0};

    SendWindow snd_;
    ReceiveWindow rcv_;
    tcp::SendBuffer tx_;        ///< transmit queue: bytes from SND.UNA
    tcp::ReassemblyBuffer rx_;  ///< receive queue: unread bytes, then the window
    tcp::SackReceiver sack_blocks_;
    /// The sender's scoreboard: exists only while the peer reports SACKed data (~350 bytes).
    std::unique_ptr<tcp::SackScoreboard> board_;
    SeqNum rxt_fence_;  ///< SND.MAX when the current round of hole retransmissions began

    PcbTimer<Pcb, &Pcb::on_retransmit_timer> retransmit_timer_;
    PcbTimer<Pcb, &Pcb::on_delayed_ack_timer> delayed_ack_timer_;
    PcbTimer<Pcb, &Pcb::on_persist_timer> persist_timer_;
    PcbTimer<Pcb, &Pcb::on_keepalive_timer> keepalive_timer_;
    PcbTimer<Pcb, &Pcb::on_time_wait_timer> time_wait_timer_;  ///< also FIN-WAIT-2 timeout
};

}  // namespace netloom::classic
