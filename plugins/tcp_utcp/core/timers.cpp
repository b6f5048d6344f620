// timers.cpp — timer_tt_rexmt, timer_tt_persist, timer_tt_delack, timer_tt_keep,
// timer_tt_fin_wait_2, timer_tt_2msl, timer_tt_conn_est and the tick dispatcher. Deadlines are
// absolute times; a timer fires when `now` reaches it.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/loss_detection.hpp"
#include "netloom/tcp_common/persist.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace detail {

void enter_time_wait(Tcb& tcb, Time now, Outputs& out) {
    tcb.state = TcpState::time_wait;
    tcb.timers = Timers{};
    tcb.timers.time_wait = now + 2 * tcb.config->msl;  // RFC 9293 3.10.7.4 "TIME-WAIT"
    tcb.scoreboard.reset();
    tcb.sack_rx.reset();
    out.add_event(kTcpClosed);
}

void arm_keepalive(Tcb& tcb, Time now) noexcept {
    const bool eligible =
        tcb.keepalive_on && tcb.synchronized() && tcb.state != TcpState::time_wait;
    if (eligible) {
        tcb.timers.keepalive = now + tcb.config->keepalive_idle;
    } else {
        tcb.timers.keepalive.reset();
    }
}

std::optional<std::chrono::milliseconds> rtt_from_echo(const Tcb& tcb, const Segment& segment,
                                                       Time now, Time max_age) noexcept {
    const auto& ts = segment.options.timestamps;
    if (!ts || ts->echo == 0) return std::nullopt;  // RFC 7323 3.2: 0 may mean "no echo"
    const std::uint32_t ms = ts_clock(tcb, now) - ts->echo;
    // An echo "from the future" wraps to a huge value; one older than anything we could have
    // sent is bogus too. Either would poison SRTT for a long time (RFC 7323 4.1 asks for sanity).
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(max_age).count() + 1;
    if (static_cast<std::int64_t>(ms) > limit) return std::nullopt;
    return std::chrono::milliseconds(ms);
}

void arm_persist(Tcb& tcb, Time now) noexcept {
    if (tcb.timers.persist) return;
    // RFC 1122 4.2.2.17: exponential backoff from the base RTO, bounded like the RTO (RFC 6298
    // 2.5); tcp_common, shared with tcp_classic.
    tcb.timers.persist = now + tcp::persist_interval(tcb.rto, tcb.persist_backoff);
}

void cancel_persist(Tcb& tcb) noexcept {
    tcb.timers.persist.reset();
    tcb.persist_backoff = 0;
}

void arm_rexmt(Tcb& tcb, Time now) noexcept {
    Time timeout = tcb.rto.rto();
    tcb.tlp_pending = false;
    tcb.reorder_pending = false;
    const bool sack_recovery = tcb.in_sack_recovery();
    if (tcb.sack_ok && tcb.synchronized() && tcb.rto.has_sample() &&
        (!tcb.cc.in_recovery() || sack_recovery) && tcb.rexmt_count == 0) {
        // RFC 8985 7.2: PTO = 2 SRTT, plus the peer's worst-case delayed-ACK time when a single
        // segment is in flight (its ACK may be delayed), never later than the RTO, and never
        // below tcp_common's floor: at sub-millisecond RTTs a bare 2 SRTT fired whenever one
        // loop turn went without an ACK and resent data that was not lost. During SACK
        // recovery the peer ACKs at once (out-of-order data is held) and the probe resends the
        // first hole (timer_tt_tlp).
        const bool one_segment = tcb.flight_size() <= tcb.max_payload() && !sack_recovery;
        const Time pto = tcp::probe_timeout(tcb.rto, one_segment, tcp::kWorstCaseDelayedAck);
        if (pto < timeout) {
            timeout = pto;
            tcb.tlp_pending = true;
        }
    }
    tcb.timers.rexmt = now + timeout;
}

void give_up(Tcb& tcb, Outputs& out) {
    drop_connection(tcb, tcb.soft_error != TcpError::none ? tcb.soft_error : TcpError::timed_out,
                    out);
}

}  // namespace detail

namespace {

/// RFC 8985 7.3: the tail loss probe. One segment regardless of cwnd: new data if the peer's
/// window allows, else the last segment sent again, so the peer's ACK (with SACK) reveals a
/// tail loss to fast recovery instead of leaving it to the RTO. Then the full RTO is armed.
void timer_tt_tlp(Tcb& tcb, Time now, Outputs& out) {
    tcb.tlp_pending = false;
    if (tcb.in_sack_recovery()) {
        // A recovery that went 2 SRTT without progress lost the retransmission of its first
        // hole with nothing sent after it that SACKs could reveal that by (RFC 8985 6.2 needs a
        // later segment delivered). Probe as RFC 8985 7.3 does, with that hole, once,
        // regardless of cwnd: its ACK moves recovery on, and the RTO (armed below) with its
        // backoff stays for when the path is really gone.
        tcp::SackScoreboard& board = *tcb.scoreboard;
        const SeqNum first_hole_end = board.ranges().empty() ? tcb.snd_max : board.ranges()[0].left;
        board.restart_retransmissions(tcp::seq_min(first_hole_end, board.high_rxt()));
        if (const auto next = board.next_segment(tcb.snd_max, 0)) {
            const std::uint32_t sent = send_range(tcb, next->start, next->length, now, out);
            if (sent > 0) {
                ++tcb.retransmits;
                tcb.rtt_seq.reset();  // Karn
                board.on_sent(tcp::NextSegment{next->start, sent, next->rule});
            }
        }
        tcb.timers.rexmt = now + tcb.rto.rto();
        return;
    }
    const std::uint32_t pending = tcb.send_buffer.size() - tcb.bytes_sent_unacked();
    const std::uint32_t flight = tcb.flight_size();
    const std::uint32_t window_room = tcb.snd_wnd > flight ? tcb.snd_wnd - flight : 0;
    std::uint32_t sent = 0;
    if (pending > 0 && window_room > 0 && tcb.snd_nxt == tcb.snd_max) {
        sent = send_range(tcb, tcb.snd_nxt, std::min({pending, window_room, tcb.max_payload()}),
                          now, out);
        tcb.snd_nxt += sent;
        tcb.snd_max = tcb.snd_nxt;
    }
    if (sent == 0 && flight > 0) {
        const std::uint32_t length = std::min(flight, tcb.max_payload());
        if (send_range(tcb, tcb.snd_nxt - length, length, now, out) > 0) {
            ++tcb.retransmits;
            tcb.rtt_seq.reset();  // Karn
        }
    }
    tcb.timers.rexmt = now + tcb.rto.rto();
}

}  // namespace

void timer_tt_rexmt(Tcb& tcb, Time now, Outputs& out) {
    tcb.timers.rexmt.reset();
    if (tcb.reorder_pending) {
        // RFC 8985 6.2: the reordering window after data above SND.UNA was SACKed is over and
        // SND.UNA is still missing: it is lost, recover now rather than at the TLP or RTO.
        tcb.reorder_pending = false;
        if (tcb.synchronized() && detail::may_enter_sack_recovery(tcb) &&
            !tcb.scoreboard->ranges().empty()) {
            enter_sack_recovery(tcb, now, out);
        }
        detail::arm_rexmt_if_idle(tcb, now);
        return;
    }
    if (tcb.tlp_pending && tcb.synchronized()) {
        timer_tt_tlp(tcb, now, out);
        return;
    }
    tcb.tlp_pending = false;
    const bool handshake = tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received;
    const std::uint32_t limit =
        handshake ? tcb.config->max_syn_retransmits : tcb.config->max_retransmits;
    // RFC 9293 3.8.3 (R2 threshold): give up after `limit` retransmissions of the same data.
    if (tcb.rexmt_count >= limit) {
        detail::give_up(tcb, out);
        return;
    }
    ++tcb.rexmt_count;
    ++tcb.rto_count;
    tcb.rto.on_timeout();  // RFC 6298 5.5: back off
    tcb.rtt_seq.reset();   // Karn: nothing in flight may be timed now
    if (handshake) {
        ++tcb.retransmits;
        tcb.syn_retransmitted = true;
        send_syn(tcb, now, out);
        return;
    }
    // Until the next timed segment, rtt_start bounds the age of a timestamp echo that may stand
    // in for an RTT sample (take_rtt_sample): only an echo of what was sent since this timeout
    // times the path. An ACK of a duplicate echoes the TS.Recent of an older transmission (RFC
    // 7323 5.3 R2/R3: an out-of-window segment does not update it); taken as a sample, an echo
    // from before a run of backed-off RTOs spanning a minute put SRTT at tens of seconds and
    // slowed a lossy transfer 50-fold (soak seeds 242 and 862).
    tcb.rtt_start = now;
    // RFC 5681 3.1 loss window. ssthresh is held when the same data timed out again (RFC 5681
    // 3.1) and when the timeout hits a fast recovery that already reduced it for this window
    // of data (one reduction per loss event, RFC 6582 3.2 / RFC 6675 5).
    tcb.cc.on_rto_timeout(tcb.flight_size(), now, tcb.rexmt_count > 1 || tcb.cc.in_recovery());
    // RFC 6582 3.2 step 1 / RFC 5681 3.2 / RFC 6675 5.1 (RecoveryPoint = HighData): ACKs for
    // data sent before the timeout must not trigger a fast retransmit of its retransmissions.
    tcb.recover = tcb.snd_max;
    tcb.dup_acks = 0;
    if (tcb.sack_ok && tcb.snd_nxt == tcb.snd_max && tcb.snd_wnd > 0) {
        // RFC 6675 5.1: keep using SACK after the timeout. Everything unSACKed below SND.MAX
        // is lost (RFC 8985 6.3) and resent hole by hole under the loss window by sack_output,
        // which also repairs lost retransmissions from later SACKs instead of another RTO.
        // RFC 2018 8: if the same data times out again the receiver may have reneged, so the
        // SACK information is dropped then (the holes become all of [SND.UNA, SND.MAX)).
        if (!tcb.scoreboard || tcb.rexmt_count > 1)
            tcb.scoreboard.emplace(tcb.snd_una, tcb.max_payload());
        tcb.scoreboard->begin_timeout_recovery(tcb.snd_max);
        tcb.rxt_fence = tcb.snd_max;
        output_tcp(tcb, now, out);
        if (!tcb.timers.rexmt && tcb.flight_size() > 0) tcb.timers.rexmt = now + tcb.rto.rto();
        tcb.tlp_pending = false;
        return;
    }
    // Without SACK (or with a zero window or a probe byte beyond SND.NXT), RFC 6298 5.4:
    // go back to SND.UNA and resend from there.
    tcb.snd_nxt = tcb.snd_una;
    // RFC 6675 5.1: a sender that keeps its SACK information after a timeout should use it, so
    // the go-back-N below skips what the peer SACKed. RFC 2018 8: the receiver may have reneged
    // on it, so if the same data times out again the information is dropped.
    if (tcb.scoreboard && tcb.rexmt_count == 1) {
        tcb.scoreboard->end_recovery();
    } else {
        tcb.scoreboard.reset();
    }
    const std::size_t before = out.segments.size();
    output_tcp(tcb, now, out);
    // RFC 6298 5.4: the earliest unacknowledged segment is resent even if the window is now
    // zero; then the persist timer (armed by output_tcp) owns a zero-window connection.
    if (out.segments.size() == before && tcb.snd_wnd > 0) retransmit_first_unacked(tcb, now, out);
    if (!tcb.timers.rexmt && tcb.flight_size() > 0) tcb.timers.rexmt = now + tcb.rto.rto();
    tcb.tlp_pending = false;
}

void timer_tt_persist(Tcb& tcb, Time now, Outputs& out) {
    tcb.timers.persist.reset();
    if (!tcb.synchronized() || tcb.state == TcpState::time_wait) return;
    const std::uint32_t pending = tcb.send_buffer.size() - tcb.bytes_sent_unacked();
    if (pending == 0 || tcb.flight_size() > 0) return;
    if (tcb.snd_wnd == 0) {
        // RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: probe with one byte of new data (tcp_common
        // zero_window_probe_length, as tcp_classic does). SND.NXT stays
        // put (the byte is outside the window and will be sent again); SND.MAX covers it so an
        // ACK of it is acceptable if the window had in fact opened.
        // Give up when nobody answers the probes any more, or, once the user closed, when the
        // window stayed shut through as many probes: a peer answering every probe with a zero
        // window must not hold an orphaned connection forever (Linux's orphan retries).
        const std::uint32_t orphan_limit = std::min<std::uint32_t>(tcb.config->max_retransmits, 16);
        if (tcb.unanswered_probes >= tcb.config->max_retransmits ||
            (tcb.user_closed && tcb.persist_backoff >= orphan_limit)) {
            detail::give_up(tcb, out);
            return;
        }
        const std::uint32_t sent =
            send_range(tcb, tcb.snd_nxt, tcp::zero_window_probe_length(pending), now, out);
        tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt + sent);
        ++tcb.unanswered_probes;
        if (tcb.persist_backoff < 16) ++tcb.persist_backoff;
        detail::arm_persist(tcb, now);
        return;
    }
    // RFC 9293 3.8.6.2.1 (4): the SWS override timeout: send what the window allows even if it
    // is less than a segment.
    const std::uint32_t room = std::min(tcb.snd_wnd, tcb.cc.cwnd());
    const std::uint32_t length = std::min({pending, room, tcb.max_payload()});
    const std::uint32_t sent = send_range(tcb, tcb.snd_nxt, length, now, out);
    if (sent > 0) {
        const bool retransmission = tcp::lt(tcb.snd_nxt, tcb.snd_max);
        tcb.snd_nxt += sent;
        if (retransmission) ++tcb.retransmits;
        tcb.snd_max = tcp::seq_max(tcb.snd_max, tcb.snd_nxt);
        detail::arm_rexmt_if_idle(tcb, now);
    }
}

void timer_tt_delack(Tcb& tcb, Time now, Outputs& out) {
    tcb.timers.delack.reset();
    if (tcb.synchronized() && tcb.state != TcpState::time_wait) send_ack(tcb, now, out);
}

void timer_tt_keep(Tcb& tcb, Time now, Outputs& out) {
    tcb.timers.keepalive.reset();
    if (!tcb.keepalive_on || !tcb.synchronized() || tcb.state == TcpState::time_wait) return;
    // RFC 1122 4.2.3.6: probe only an idle connection; with data outstanding the
    // retransmission or persist timer already tests the path.
    if (tcb.snd_una != tcb.snd_max || tcb.timers.persist) {
        detail::arm_keepalive(tcb, now);
        return;
    }
    if (tcb.unanswered_probes >= tcb.config->keepalive_count) {
        detail::give_up(tcb, out);
        return;
    }
    // SEG.SEQ = SND.NXT - 1 with no data: outside the peer's window, so it must answer with an
    // ACK (RFC 1122 4.2.3.6, RFC 9293 3.10.7.4 "first").
    out.segments.push_back(make_segment(tcb, tcb.snd_una - 1, ack, now));
    ++tcb.unanswered_probes;
    tcb.timers.keepalive = now + tcb.config->keepalive_interval;
}

void timer_tt_fin_wait_2(Tcb& tcb, Time /*now*/, Outputs& out) {
    tcb.timers.fin_wait_2.reset();
    if (tcb.state == TcpState::fin_wait_2) drop_connection(tcb, TcpError::none, out);
}

void timer_tt_2msl(Tcb& tcb, Time /*now*/, Outputs& out) {
    tcb.timers.time_wait.reset();
    // RFC 9293 3.10.8: TIME-WAIT timeout deletes the TCB. The user already saw kTcpClosed.
    tcb.state = TcpState::closed;
    tcb.timers = Timers{};
    (void)out;
}

void timer_tt_conn_est(Tcb& tcb, Time /*now*/, Outputs& out) {
    tcb.timers.conn_establish.reset();
    if (tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received)
        detail::give_up(tcb, out);
}

Outputs on_tick(Tcb& tcb, Time now) {
    Outputs out;
    on_tick(tcb, now, out);
    return out;
}

void on_tick(Tcb& tcb, Time now, Outputs& out) {
    Timers& t = tcb.timers;
    if (t.conn_establish.due(now)) timer_tt_conn_est(tcb, now, out);
    if (t.time_wait.due(now)) timer_tt_2msl(tcb, now, out);
    if (t.fin_wait_2.due(now)) timer_tt_fin_wait_2(tcb, now, out);
    if (t.rexmt.due(now)) timer_tt_rexmt(tcb, now, out);
    if (t.persist.due(now)) timer_tt_persist(tcb, now, out);
    if (t.keepalive.due(now)) timer_tt_keep(tcb, now, out);
    if (t.delack.due(now)) timer_tt_delack(tcb, now, out);
}

std::optional<Time> next_deadline(const Tcb& tcb) noexcept {
    // Runs after every core call (the shell re-arms its timer): a stopped timer counts as
    // Time::max() so the minimum is a few compares, no branch per timer.
    const Timers& t = tcb.timers;
    const auto at = [](const Deadline& deadline) { return deadline ? *deadline : Time::max(); };
    const Time earliest = std::min({at(t.rexmt), at(t.persist), at(t.delack), at(t.keepalive),
                                    at(t.time_wait), at(t.conn_establish), at(t.fin_wait_2)});
    if (earliest == Time::max()) return std::nullopt;
    return earliest;
}

}  // namespace netloom::utcp
