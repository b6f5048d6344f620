// rules.hpp — the transitions of the pure core, named after the netsem/µTCP rules they implement.
//
// Contract: every function is `(state, input, now) -> (state', outputs)`: it mutates only the Tcb
// (or Listener) it is given, appends to the Outputs it returns, reads no clock, does no I/O and
// uses no randomness (the ISN key and TS offset arrive in Config). Same inputs, same outputs.
// Segments handed in are assumed to belong to the connection (the shell demultiplexes by
// 4-tuple and has verified the checksum); anything else about them may be hostile. Their payload
// is borrowed for the call: text a rule keeps is named in Outputs::keep and stored by the caller
// (segment.hpp), outgoing payload is named by range and copied by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "core/tcb.hpp"
#include "netloom/tcp_common/ephemeral_ports.hpp"

namespace netloom::utcp {

// --- Opening ------------------------------------------------------------------------------
/// connect_1 — user OPEN, active (RFC 9293 3.10.1): choose ISS (RFC 6528), send SYN with our
/// options, enter SYN-SENT. `reusing`: the TIME-WAIT connection whose 4-tuple this one takes
/// over (tcp_common/ephemeral_ports.hpp): the ISS then lies beyond its sequence space.
Tcb connect_1(const Config& config, const tcp::FourTuple& tuple, Time now, Outputs& out);
/// Same, sharing `config` with other connections (no per-connection copy).
Tcb connect_1(std::shared_ptr<const Config> config, const tcp::FourTuple& tuple, Time now,
              Outputs& out, const tcp::TimeWaitRecord* reusing = nullptr);

struct Listener {
    Config config;
    std::uint16_t port = 0;
    /// If set, new connections share this instead of copying `config` (set it to a shared copy
    /// of `config`: memory per connection then excludes the config).
    std::shared_ptr<const Config> shared = nullptr;
};
/// deliver_in_1 — a segment for a LISTEN socket (RFC 9293 3.10.7.2): RST ignored, ACK answered
/// with RST, SYN creates a SYN-RECEIVED TCB and a SYN-ACK (`tuple` is the new connection's).
std::optional<Tcb> deliver_in_1(const Listener& listener, const tcp::FourTuple& tuple,
                                const Segment& segment, Time now, Outputs& out);

/// Entry point for a segment on an existing connection: dispatches to the rules below by state.
/// Appends to `out` (a shell passes one Outputs it clears and reuses).
void deliver_in(Tcb& tcb, const Segment& segment, Time now, Outputs& out);
/// Same, into a fresh Outputs.
Outputs deliver_in(Tcb& tcb, const Segment& segment, Time now);
/// deliver_in_2 / 2a / simultaneous open — a segment in SYN-SENT (RFC 9293 3.10.7.3).
void deliver_in_2(Tcb& tcb, const Segment& segment, Time now, Outputs& out);
/// deliver_in_3 — any segment in SYN-RECEIVED or a synchronized state (RFC 9293 3.10.7.4),
/// including the RST (deliver_in_7) and SYN (deliver_in_8) steps.
void deliver_in_3(Tcb& tcb, const Segment& segment, Time now, Outputs& out);

/// RFC 6191 / RFC 9293 3.10.7.4 (TIME-WAIT note): may a new SYN (no ACK, no RST) for this
/// TIME-WAIT 4-tuple reopen it? Yes if its TSval is newer than TS.Recent when both sides use
/// timestamps, else if its SEQ is above RCV.NXT. The shell then deletes this TCB and hands the
/// SYN to the listener (deliver_in_1).
bool time_wait_accepts_syn(const Tcb& tcb, const Segment& syn);

/// deliver_in_5 / deliver_in_6 — a segment for which no connection exists (CLOSED, RFC 9293
/// 3.10.7.1): the RST to send, or nothing if the segment is itself a RST.
std::optional<OutgoingSegment> rst_for_closed(const Segment& segment);

// --- Options (RFC 7323, RFC 2018, RFC 9293 3.7.1) -------------------------------------------
/// Options for our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED: only those the peer offered).
wire::TcpOptions syn_options(const Tcb& tcb, Time now);
/// Record what the peer's SYN (or SYN-ACK) offered: an option is on only if both SYNs carried
/// it (ours always offers what the config enables). Sets the send MSS and the CC's segment size.
void negotiate_options(Tcb& tcb, const Segment& peer_syn);

// --- Output ---------------------------------------------------------------------------------
/// A segment from this connection with SEQ/ACK/window/timestamps filled in.
OutgoingSegment make_segment(Tcb& tcb, SeqNum seq, std::uint8_t flags, Time now);
/// An ACK of RCV.NXT with current SACK blocks (RFC 9293 3.10.7.4, RFC 2018 4).
void send_ack(Tcb& tcb, Time now, Outputs& out);
/// RFC 5961 7: a challenge ACK, if the per-second budget allows.
void send_challenge_ack(Tcb& tcb, Time now, Outputs& out);
/// (Re)send SYN or SYN-ACK while SND.UNA == ISS.
void send_syn(Tcb& tcb, Time now, Outputs& out);
/// output_tcp — send what the windows allow: new or rewound data, then our FIN.
void output_tcp(Tcb& tcb, Time now, Outputs& out);
/// Enter CLOSED with an error, stop timers, report it.
void drop_connection(Tcb& tcb, TcpError error, Outputs& out);

// --- Loss recovery (RFC 5681 3.2, RFC 6582 NewReno) -------------------------------------------
/// A duplicate ACK: count it; the third starts fast retransmit / fast recovery, later ones
/// inflate cwnd.
void deliver_in_dup_ack(Tcb& tcb, Time now, Outputs& out);
/// A new ACK during fast recovery (`acked_bytes` of data newly acknowledged, SND.UNA already
/// advanced): a full ACK ends recovery, a partial one retransmits the next hole (RFC 6582 3.2).
void deliver_in_recovery_ack(Tcb& tcb, std::uint32_t acked_bytes, Time now, Outputs& out);
/// Resend the first unacknowledged segment without moving SND.NXT.
void retransmit_first_unacked(Tcb& tcb, Time now, Outputs& out);
/// Build and emit one segment carrying [start, start + length) of our sequence space (data from
/// the send buffer, plus our FIN if the range reaches it), trimmed so payload + options fit the
/// MSS. Does not move SND.NXT; returns the sequence space sent (0: nothing).
std::uint32_t send_range(Tcb& tcb, SeqNum start, std::uint32_t length, Time now, Outputs& out);
/// RFC 6675 5: a loss detected with SACK (three duplicate ACKs or IsLost(SND.UNA)): enter
/// recovery, then sack_output.
void enter_sack_recovery(Tcb& tcb, Time now, Outputs& out);
/// RFC 6675 5 (C): while cwnd - pipe >= 1 SMSS, send what NextSeg chooses.
void sack_output(Tcb& tcb, Time now, Outputs& out);

// --- ICMP (RFC 5927, RFC 1122 4.2.3.9, RFC 1191) -------------------------------------------
/// An ICMP error quoting one of our segments (`quoted_seq` its sequence number). Ignored unless
/// SND.UNA <= quoted_seq < SND.MAX (RFC 5927 4.1). Destination unreachable: protocol/port
/// (codes 2, 3) abort a connection still in SYN-SENT or SYN-RECEIVED with `unreachable`; every
/// other code and a synchronized state record a soft error, reported instead of timed_out if
/// the connection later gives up. Fragmentation needed (type 3 code 4, RFC 1191): lower the
/// send MSS to next_hop_mtu - 40 (never below 536; MTUs below 68 are ignored) and resend from
/// SND.UNA. Source quench (type 4) is ignored (RFC 6633).
void deliver_icmp(Tcb& tcb, std::uint8_t type, std::uint8_t code, SeqNum quoted_seq,
                  std::uint16_t next_hop_mtu, Time now, Outputs& out);

// --- Timers -----------------------------------------------------------------------------------
/// timer_tt_rexmt — retransmission timeout (RFC 6298 5.4-5.7, RFC 9293 3.8.3 give-up).
void timer_tt_rexmt(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_2msl — TIME-WAIT expiry (RFC 9293 3.10.8): delete the TCB.
void timer_tt_2msl(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_conn_est — the connection-establishment deadline passed (RFC 1122 4.2.3.5).
void timer_tt_conn_est(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_persist — zero-window probe with backoff (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17), or
/// the sender SWS override when the window is open but too small to use (3.8.6.2.1).
void timer_tt_persist(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_delack — the delayed ACK is due (RFC 1122 4.2.3.2).
void timer_tt_delack(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_keep — keepalive probe, or give up after keepalive_count probes (RFC 1122 4.2.3.6).
void timer_tt_keep(Tcb& tcb, Time now, Outputs& out);
/// timer_tt_fin_wait_2 — the peer's FIN did not come after a full close: CLOSED.
void timer_tt_fin_wait_2(Tcb& tcb, Time now, Outputs& out);
/// Runs every timer whose deadline is <= now, appending to `out`.
void on_tick(Tcb& tcb, Time now, Outputs& out);
/// Same, into a fresh Outputs.
Outputs on_tick(Tcb& tcb, Time now);
/// The earliest armed deadline (what the shell schedules), if any.
std::optional<Time> next_deadline(const Tcb& tcb) noexcept;

// --- User calls -------------------------------------------------------------------------------
/// send_1 — user SEND (RFC 9293 3.10.2): queue up to the free send buffer, return bytes taken.
std::size_t send_1(Tcb& tcb, std::span<const std::uint8_t> data, Time now, Outputs& out);
/// recv_1 — user RECEIVE (3.10.3): copy in-order bytes out; may open the window (update sent).
std::size_t recv_1(Tcb& tcb, std::span<std::uint8_t> buffer, Time now, Outputs& out);
/// shutdown_1 — half-close (3.10.4 CLOSE of the sending side): FIN after queued data.
void shutdown_1(Tcb& tcb, Time now, Outputs& out);
/// close_1 — user CLOSE (3.10.4): like shutdown_1; a RST instead if unread data remains
/// (RFC 2525 2.17).
void close_1(Tcb& tcb, Time now, Outputs& out);
/// abort_1 — user ABORT (3.10.5): RST (sequence SND.MAX) if synchronized, enter CLOSED.
void abort_1(Tcb& tcb, Time now, Outputs& out);
/// set_nodelay_1 — TCP_NODELAY: Nagle off (true) or on. Call output_tcp to flush.
void set_nodelay_1(Tcb& tcb, bool nodelay) noexcept;
/// set_keepalive_1 — SO_KEEPALIVE for this connection (RFC 1122 4.2.3.6).
void set_keepalive_1(Tcb& tcb, bool on, Time now) noexcept;
/// True once the peer's FIN is in sequence and every byte before it was read.
inline bool eof(const Tcb& tcb) noexcept {
    return tcb.fin_received && tcb.recv_buffer.readable() == 0;
}
/// In-order bytes the user can read now.
inline std::size_t readable_bytes(const Tcb& tcb) noexcept {
    return tcb.recv_buffer.readable();
}
/// window_update_1 — the engine's memory pressure ended (Tcb::memory_level is back to normal):
/// a window update if the window now opens (RFC 9293 3.8.6.2.2), so a peer held at the edge
/// we kept is not left probing.
void window_update_1(Tcb& tcb, Time now, Outputs& out);
/// Bytes send_1 would accept now (0 once the sending side is shut down).
std::size_t send_space(const Tcb& tcb) noexcept;

}  // namespace netloom::utcp
