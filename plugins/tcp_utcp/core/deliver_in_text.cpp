// deliver_in_text.cpp — RFC 9293 3.10.7.4 "seventh" (segment text) and "eighth" (FIN), and the
// ACK policy for received data: delayed ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2) with immediate
// ACKs for out-of-order segments, segments that fill a hole, duplicates and FINs.
#include <algorithm>

#include "core/detail.hpp"
#include "netloom/tcp_common/receiver_ack.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

void consume_fin(Tcb& tcb, Time now, Outputs& out) {
    tcb.rcv_nxt += 1;
    // The FIN may sit just past the advertised edge (data filled the window): the edge moves
    // with it so RCV.WND stays 0 instead of wrapping (RFC 9293 3.8.6.2.2 never shrinks it).
    tcb.rcv_adv = tcp::seq_max(tcb.rcv_adv, tcb.rcv_nxt);
    tcb.fin_received = true;
    tcb.ooo_fin.reset();
    out.add_event(kTcpReadable);
    switch (tcb.state) {
        case TcpState::syn_received:
        case TcpState::established: tcb.state = TcpState::close_wait; break;
        case TcpState::fin_wait_1:
            if (tcb.fin_acked) {
                detail::enter_time_wait(tcb, now, out);
            } else {
                tcb.state = TcpState::closing;  // simultaneous close (RFC 9293 3.6 figure 13)
            }
            break;
        case TcpState::fin_wait_2: detail::enter_time_wait(tcb, now, out); break;
        default: break;
    }
}

/// Queue in-order text and hold out-of-order text in the receive buffer (RFC 2018 SACK blocks
/// describe it). Returns the ACK policy the segment calls for.
detail::AckPolicy process_text(Tcb& tcb, const Segment& segment, Outputs& out) {
    SeqNum start = segment.seq;
    std::span<const std::uint8_t> data = segment.payload;
    tcb.rcv_mss = static_cast<std::uint16_t>(tcp::full_sized_after(
        tcb.rcv_mss, static_cast<std::uint32_t>(std::min<std::size_t>(data.size(), 0xffff))));
    // Before queueing: which part, if any, repeats what we hold (RFC 2883 4). Its D-SACK goes
    // out in the ACK for this segment, sent at once (rule 1).
    const bool duplicate =
        detail::note_duplicate(tcb, start, start + static_cast<std::uint32_t>(data.size()), true);
    if (tcp::lt(start, tcb.rcv_nxt)) {
        const std::uint32_t skip = tcp::forward_distance(start, tcb.rcv_nxt);
        if (skip >= data.size()) return detail::AckPolicy::now;  // duplicate: resynchronise
        data = data.subspan(skip);
        start = tcb.rcv_nxt;
    }
    // Trim to the window we offered (RFC 9293 3.10.7.4 "seventh"); the buffer holds all of it,
    // since the offer never exceeds its free space (RCV.BUFF minus unread bytes).
    const std::uint32_t offset = tcp::forward_distance(tcb.rcv_nxt, start);
    const std::uint32_t window = tcb.rcv_wnd();
    if (offset >= window) return detail::AckPolicy::now;
    data = data.first(std::min<std::size_t>(data.size(), window - offset));
    // The engine's memory budget (tcp_common memory_budget.hpp): under pressure out-of-order
    // text is dropped first, at the hard limit in-order text too. The peer resends it; the
    // window update when the pressure ends restarts it.
    if (tcb.memory_level != tcp::MemoryLevel::normal &&
        (offset > 0 || tcb.memory_level == tcp::MemoryLevel::hard)) {
        out.note(offset > 0 ? kNoteOooDroppedMemory : kNoteRxDroppedMemory);
        tcb.window_held = true;
        return detail::AckPolicy::now;
    }
    const bool had_holes = !tcb.recv_buffer.ranges().empty();
    // The core decides and accounts; the shell copies the bytes (Outputs::keep).
    const auto result = tcb.recv_buffer.accept(offset, static_cast<std::uint32_t>(data.size()));
    if (result.stored > 0)
        out.keep = KeepRange{static_cast<std::uint32_t>(data.data() - segment.payload.data()),
                             result.stored, result.position};
    tcb.bytes_received += result.stored;
    if (offset > 0) {
        if (result.stored > 0) {
            if (!tcb.sack_rx) tcb.sack_rx.emplace();
            tcb.sack_rx->on_out_of_order(start, start + result.stored, tcb.rcv_nxt);
        }
        return detail::AckPolicy::now;  // RFC 5681 4.2: out of order -> duplicate ACK at once
    }
    if (result.advanced == 0) return detail::AckPolicy::now;
    tcb.rcv_nxt += result.advanced;
    if (tcb.sack_rx) tcb.sack_rx->on_advance(tcb.rcv_nxt);
    detail::trim_sack_state(tcb);
    out.add_event(kTcpReadable);
    // RFC 5681 4.2 / 3.2: a segment that fills (part of) a hole is ACKed at once, and so are
    // the next few (quick ACKs after loss; tcp_common receiver_ack.hpp, shared with
    // tcp_classic).
    return duplicate || tcp::ack_now_for_in_order_data(had_holes, tcb.quick_acks)
               ? detail::AckPolicy::now
               : detail::AckPolicy::delayed;
}

}  // namespace

detail::AckPolicy detail::deliver_in_text(Tcb& tcb, const Segment& segment, Time now,
                                          Outputs& out) {
    AckPolicy policy = AckPolicy::none;
    const bool may_receive = tcb.state == TcpState::established ||
                             tcb.state == TcpState::fin_wait_1 || tcb.state == TcpState::fin_wait_2;
    if (!may_receive) return policy;
    if (tcb.user_closed && !segment.payload.empty() &&
        tcp::gt(segment.seq + static_cast<std::uint32_t>(segment.payload.size()), tcb.rcv_nxt)) {
        // New data after close(): nobody will read it. RFC 9293 3.10.4 / RFC 2525 2.17: reset
        // rather than acknowledge and discard it (Linux does the same).
        abort_1(tcb, now, out);
        return AckPolicy::none;
    }
    if (!segment.payload.empty()) policy = process_text(tcb, segment, out);
    // "eighth": FIN, once everything before it is in sequence.
    std::optional<SeqNum> fin_at = tcb.ooo_fin;
    if (segment.fin()) {
        const SeqNum at = segment.seq + static_cast<std::uint32_t>(segment.payload.size());
        if (tcp::ge(at, tcb.rcv_nxt)) fin_at = at;
    }
    if (fin_at && *fin_at == tcb.rcv_nxt) {
        consume_fin(tcb, now, out);
        return AckPolicy::now;  // RFC 9293 3.10.7.4 "eighth": acknowledge the FIN
    }
    if (fin_at && tcp::gt(*fin_at, tcb.rcv_nxt)) {
        tcb.ooo_fin = fin_at;
        policy = AckPolicy::now;
    }
    return policy;
}

bool detail::note_duplicate(Tcb& tcb, SeqNum left, SeqNum right, bool queued) {
    if (!tcb.sack_ok) return false;  // RFC 2883 4: D-SACK only when SACK was negotiated
    const auto duplicate = tcp::find_duplicate(
        left, right, tcb.rcv_nxt,
        queued ? tcb.recv_buffer.ranges() : std::span<const tcp::ReassemblyBuffer::Range>{});
    if (!duplicate) return false;
    if (!tcb.sack_rx) tcb.sack_rx.emplace();
    tcb.sack_rx->on_duplicate(*duplicate, tcb.rcv_nxt);
    return true;
}

void detail::schedule_ack(Tcb& tcb, Time now, Outputs& out) {
    // RFC 5681 4.2 / RFC 1122 4.2.3.2: at least every second full-sized segment is ACKed at
    // once; otherwise within delack_timeout (the RFC's bound is 500 ms).
    const std::uint32_t owed = tcp::forward_distance(tcb.last_ack_sent, tcb.rcv_nxt);
    if (!tcb.config->delayed_ack || tcp::delayed_ack_due(owed, tcb.rcv_mss, tcb.config->mss)) {
        send_ack(tcb, now, out);
        return;
    }
    if (!tcb.timers.delack) tcb.timers.delack = now + tcb.config->delack_timeout;
}

}  // namespace netloom::utcp
