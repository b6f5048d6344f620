// fast_retransmit.cpp — fast retransmit and NewReno fast recovery (RFC 5681 3.2, RFC 6582 3.2).
// The congestion window arithmetic is tcp_common's CongestionControl (RecoveryStyle::newreno);
// this file decides when recovery starts and ends and what to resend. SACK-driven recovery
// (RFC 6675 with the scoreboard) is not done yet.
#include <algorithm>

#include "core/rules.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

void retransmit_first_unacked(Tcb& tcb, Time now, Outputs& out) {
    const auto queued = static_cast<std::uint32_t>(tcb.send_queue.size());
    const std::uint32_t length = std::min(queued, tcb.max_payload());
    const bool with_fin =
        tcb.fin_queued && !tcb.fin_acked && length == queued && tcp::gt(tcb.snd_max, tcb.fin_seq());
    if (length == 0 && !with_fin) return;
    Segment segment = make_segment(tcb, tcb.snd_una, with_fin ? (ack | fin) : ack, now);
    segment.payload.assign(tcb.send_queue.begin(), tcb.send_queue.begin() + length);
    out.segments.push_back(std::move(segment));
    ++tcb.retransmits;
    tcb.rtt_seq.reset();  // Karn (RFC 6298 3): the timed segment may now be ambiguous
}

void deliver_in_dup_ack(Tcb& tcb, Time now, Outputs& out) {
    ++tcb.dup_acks;
    if (tcb.cc.in_recovery()) {
        tcb.cc.on_dup_ack();  // RFC 5681 3.2 step 4: inflate; output_tcp may send new data
        return;
    }
    if (tcb.dup_acks != 3) return;
    // RFC 6582 3.2 step 2: no new recovery while the ACKs still cover data sent before the last
    // one began (they would be duplicates caused by our own retransmissions).
    if (tcb.recover && tcp::le(tcb.snd_una, *tcb.recover)) return;
    tcb.recover = tcb.snd_max;
    tcb.cc.enter_recovery(tcb.flight_size(), now, tcp::RecoveryStyle::newreno);
    ++tcb.fast_retransmits;
    retransmit_first_unacked(tcb, now, out);  // RFC 5681 3.2 step 3
}

void deliver_in_recovery_ack(Tcb& tcb, std::uint32_t acked_bytes, Time now, Outputs& out) {
    tcb.dup_acks = 0;
    if (!tcb.recover || tcp::ge(tcb.snd_una, *tcb.recover)) {
        tcb.cc.exit_recovery(tcb.flight_size());  // full ACK (RFC 6582 3.2 step 3)
        return;
    }
    // Partial ACK (step 5): deflate, resend the next hole, restart the timer.
    tcb.cc.on_partial_ack(acked_bytes);
    retransmit_first_unacked(tcb, now, out);
    tcb.timers.rexmt = now + tcb.rto.rto();
}

}  // namespace netloom::utcp
