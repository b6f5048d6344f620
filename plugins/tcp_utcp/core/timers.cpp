// timers.cpp — timer_tt_rexmt, timer_tt_2msl, timer_tt_conn_est and the tick dispatcher.
// Deadlines are absolute times; a timer fires when `now` reaches it.
#include "core/rules.hpp"

namespace netloom::utcp {

void timer_tt_rexmt(Tcb& tcb, Time now, Outputs& out) {
    tcb.timers.rexmt.reset();
    const bool handshake = tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received;
    const std::uint32_t limit =
        handshake ? tcb.config.max_syn_retransmits : tcb.config.max_retransmits;
    // RFC 9293 3.8.3 (R2 threshold): give up after `limit` retransmissions of the same data.
    if (tcb.rexmt_count >= limit) {
        drop_connection(tcb, TcpError::timed_out, out);
        return;
    }
    ++tcb.rexmt_count;
    ++tcb.rto_count;
    tcb.rto.on_timeout();  // RFC 6298 5.5: back off
    tcb.rtt_seq.reset();   // Karn: nothing in flight may be timed now
    if (handshake) {
        ++tcb.retransmits;
        send_syn(tcb, now, out);
        return;
    }
    // RFC 5681 3.1 loss window and RFC 6298 5.4: go back to SND.UNA and resend from there.
    tcb.cc.on_rto_timeout(tcb.flight_size(), now, tcb.rexmt_count > 1);
    tcb.snd_nxt = tcb.snd_una;
    // RFC 6582 3.2 step 1 / RFC 5681 3.2: ACKs for data sent before the timeout must not
    // trigger a fast retransmit of the go-back-N duplicates.
    tcb.recover = tcb.snd_max;
    tcb.dup_acks = 0;
    tcb.scoreboard.clear();  // RFC 2018 8: SACK information may be reneged after a timeout
    output_tcp(tcb, now, out);
    if (!tcb.timers.rexmt && tcb.snd_una != tcb.snd_max) tcb.timers.rexmt = now + tcb.rto.rto();
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
        drop_connection(tcb, TcpError::timed_out, out);
}

Outputs on_tick(Tcb& tcb, Time now) {
    Outputs out;
    auto due = [&](const std::optional<Time>& deadline) { return deadline && *deadline <= now; };
    if (due(tcb.timers.conn_establish)) timer_tt_conn_est(tcb, now, out);
    if (due(tcb.timers.time_wait)) timer_tt_2msl(tcb, now, out);
    if (due(tcb.timers.rexmt)) timer_tt_rexmt(tcb, now, out);
    return out;
}

std::optional<Time> next_deadline(const Tcb& tcb) noexcept {
    std::optional<Time> earliest;
    for (const auto& deadline :
         {tcb.timers.rexmt, tcb.timers.time_wait, tcb.timers.conn_establish}) {
        if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
    }
    return earliest;
}

}  // namespace netloom::utcp
