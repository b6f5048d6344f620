// deliver_in_3.cpp — a segment in SYN-RECEIVED or a synchronized state, in the order of RFC 9293
// 3.10.7.4: PAWS (RFC 7323 5.3, which runs before the sequence test), sequence acceptability
// (4 cases), RST (deliver_in_7, RFC 5961 3), SYN (deliver_in_8, RFC 5961 4), ACK (RFC 5961 5),
// URG (ignored), text, FIN.
#include <algorithm>

#include "core/rules.hpp"
#include "netloom/tcp_common/window.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

/// RFC 9293 3.10.7.4 "first": the four cases of the acceptability test.
bool sequence_acceptable(const Tcb& tcb, SeqNum seq, std::uint32_t len) {
    const std::uint32_t window = tcb.rcv_wnd();
    if (len == 0)
        return window == 0 ? seq == tcb.rcv_nxt : tcp::in_window(seq, tcb.rcv_nxt, window);
    if (window == 0) return false;
    return tcp::in_window(seq, tcb.rcv_nxt, window) ||
           tcp::in_window(seq + (len - 1), tcb.rcv_nxt, window);
}

void enter_time_wait(Tcb& tcb, Time now, Outputs& out) {
    tcb.state = TcpState::time_wait;
    tcb.timers = Timers{};
    tcb.timers.time_wait = now + 2 * tcb.config.msl;  // RFC 9293 3.10.7.4 "TIME-WAIT"
    out.add_event(kTcpClosed);
}

void take_rtt_sample(Tcb& tcb, const Segment& segment, Time now) {
    // RFC 7323 4: an echoed timestamp identifies the transmission, retransmitted or not.
    if (tcb.ts_ok && segment.options.timestamps && segment.options.timestamps->echo != 0) {
        const std::uint32_t ms = ts_clock(tcb, now) - segment.options.timestamps->echo;
        if (ms < 0x7fffffff) tcb.rto.on_rtt_sample(std::chrono::milliseconds(ms));
        return;
    }
    // Otherwise Karn's rule (RFC 6298 3): rtt_seq is cleared when anything is retransmitted.
    if (tcb.rtt_seq && tcp::ge(segment.ack, *tcb.rtt_seq)) {
        tcb.rto.on_rtt_sample(now - tcb.rtt_start);
        tcb.rtt_seq.reset();
    }
}

/// SND.UNA < SEG.ACK <= SND.MAX: drop acknowledged bytes, sample RTT, grow cwnd, re-arm the
/// retransmission timer (RFC 6298 5.2/5.3).
void process_new_ack(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    std::uint32_t acked = tcp::forward_distance(tcb.snd_una, segment.ack);
    if (tcb.fin_queued && !tcb.fin_acked && tcp::gt(segment.ack, tcb.fin_seq())) {
        tcb.fin_acked = true;
        --acked;
    }
    const auto data =
        std::min<std::uint32_t>(acked, static_cast<std::uint32_t>(tcb.send_queue.size()));
    tcb.send_queue.erase(tcb.send_queue.begin(), tcb.send_queue.begin() + data);
    tcb.snd_una = segment.ack;
    if (tcp::lt(tcb.snd_nxt, tcb.snd_una)) tcb.snd_nxt = tcb.snd_una;  // acked past a rewind
    take_rtt_sample(tcb, segment, now);
    tcb.rexmt_count = 0;
    tcp::AckSample sample;
    sample.acked_bytes = data;
    sample.now = now;
    if (tcb.rto.has_sample()) sample.rtt = tcb.rto.srtt();
    sample.bytes_in_flight = tcb.flight_size();
    if (tcb.cc.in_recovery()) {
        deliver_in_recovery_ack(tcb, data, now, out);
    } else {
        tcb.dup_acks = 0;
        tcb.cc.on_ack(sample);
    }
    if (tcb.snd_una == tcb.snd_max) {
        tcb.timers.rexmt.reset();  // RFC 6298 5.2
    } else {
        tcb.timers.rexmt = now + tcb.rto.rto();  // RFC 6298 5.3
    }
    if (data > 0) out.add_event(kTcpWritable);
}

void consume_fin(Tcb& tcb, Time now, Outputs& out) {
    tcb.rcv_nxt += 1;
    tcb.fin_received = true;
    tcb.ooo_fin.reset();
    out.add_event(kTcpReadable);
    switch (tcb.state) {
        case TcpState::syn_received:
        case TcpState::established: tcb.state = TcpState::close_wait; break;
        case TcpState::fin_wait_1:
            if (tcb.fin_acked) {
                enter_time_wait(tcb, now, out);
            } else {
                tcb.state = TcpState::closing;  // simultaneous close (RFC 9293 3.6 figure 13)
            }
            break;
        case TcpState::fin_wait_2: enter_time_wait(tcb, now, out); break;
        default: break;
    }
    send_ack(tcb, now, out);
}

/// RFC 9293 3.10.7.4 "seventh": queue in-order text, keep out-of-order text (RFC 2018 SACK).
/// Returns true if an ACK must be sent.
bool process_text(Tcb& tcb, const Segment& segment, Outputs& out) {
    SeqNum start = segment.seq;
    std::span<const std::uint8_t> data = segment.payload;
    if (tcp::lt(start, tcb.rcv_nxt)) {
        const std::uint32_t skip = tcp::forward_distance(start, tcb.rcv_nxt);
        if (skip >= data.size()) return true;  // duplicate: ACK to resynchronise
        data = data.subspan(skip);
        start = tcb.rcv_nxt;
    }
    // Trim to what we offered and can hold (RFC 9293 3.10.7.4 "seventh", 3.8.6).
    const std::uint32_t room = std::min(tcb.rcv_wnd(), tcb.rcv_free());
    const std::uint32_t offset = tcp::forward_distance(tcb.rcv_nxt, start);
    if (offset >= room) return true;
    data = data.first(std::min<std::size_t>(data.size(), room - offset));
    if (data.empty()) return true;
    if (start == tcb.rcv_nxt) {
        tcb.recv_queue.insert(tcb.recv_queue.end(), data.begin(), data.end());
        tcb.rcv_nxt += static_cast<std::uint32_t>(data.size());
        // Pull any out-of-order segments the new data reaches.
        bool progress = true;
        while (progress) {
            progress = false;
            for (auto it = tcb.ooo.begin(); it != tcb.ooo.end(); ++it) {
                if (tcp::gt(it->seq, tcb.rcv_nxt)) continue;
                const std::uint32_t covered = tcp::forward_distance(it->seq, tcb.rcv_nxt);
                if (covered < it->data.size()) {
                    tcb.recv_queue.insert(tcb.recv_queue.end(), it->data.begin() + covered,
                                          it->data.end());
                    tcb.rcv_nxt = it->seq + static_cast<std::uint32_t>(it->data.size());
                }
                tcb.ooo.erase(it);
                progress = true;
                break;
            }
        }
        tcb.sack_rx.on_advance(tcb.rcv_nxt);
        out.add_event(kTcpReadable);
        return true;
    }
    const SeqNum end = start + static_cast<std::uint32_t>(data.size());
    const bool already = std::any_of(tcb.ooo.begin(), tcb.ooo.end(), [&](const auto& held) {
        return tcp::le(held.seq, start) &&
               tcp::ge(held.seq + static_cast<std::uint32_t>(held.data.size()), end);
    });
    if (!already) tcb.ooo.push_back(OutOfOrderSegment{start, {data.begin(), data.end()}});
    tcb.sack_rx.on_out_of_order(start, end, tcb.rcv_nxt);
    return true;  // RFC 5681 4.2: an out-of-order segment is ACKed at once (a duplicate ACK)
}

}  // namespace

void deliver_in_3(Tcb& tcb, const Segment& segment, Time now, Outputs& out) {
    const std::uint32_t len = segment.seq_len();
    const auto& ts = segment.options.timestamps;
    // RFC 7323 5.3 R1 (PAWS): an older TSval than TS.Recent is a stale duplicate. The 24-day
    // idle exemption of 5.5 is still missing (listed in the README's "not yet").
    if (tcb.ts_ok && ts && !segment.has(rst) &&
        static_cast<std::int32_t>(ts->value - tcb.ts_recent) < 0) {
        send_ack(tcb, now, out);
        return;
    }
    if (!sequence_acceptable(tcb, segment.seq, len)) {
        if (segment.has(rst)) return;
        if (tcb.state == TcpState::time_wait && segment.has(fin))
            tcb.timers.time_wait = now + 2 * tcb.config.msl;  // a retransmitted FIN
        send_ack(tcb, now, out);
        return;
    }
    // RFC 7323 4.3 (2): remember the TSval of the segment carrying Last.ACK.sent.
    if (tcb.ts_ok && ts && tcp::le(segment.seq, tcb.last_ack_sent)) tcb.ts_recent = ts->value;

    // "second": RST. RFC 5961 3.2: only an exact match resets; in-window gets a challenge ACK.
    if (segment.has(rst)) {
        if (segment.seq != tcb.rcv_nxt) {
            send_challenge_ack(tcb, now, out);
            return;
        }
        switch (tcb.state) {
            case TcpState::syn_received:
                drop_connection(tcb, tcb.passive ? TcpError::reset : TcpError::refused, out);
                break;
            case TcpState::closing:
            case TcpState::last_ack:
            case TcpState::time_wait: drop_connection(tcb, TcpError::none, out); break;
            default: drop_connection(tcb, TcpError::reset, out); break;
        }
        return;
    }
    // "fourth": SYN. RFC 5961 4.2: any SYN here gets a challenge ACK, never a reset.
    if (segment.has(syn)) {
        send_challenge_ack(tcb, now, out);
        return;
    }
    // "fifth": ACK.
    if (!segment.has(ack)) return;
    if (tcb.state == TcpState::syn_received) {
        if (!(tcp::lt(tcb.snd_una, segment.ack) && tcp::le(segment.ack, tcb.snd_nxt))) {
            Segment reply = make_segment(tcb, segment.ack, rst, now);  // <SEQ=SEG.ACK><CTL=RST>
            out.segments.push_back(std::move(reply));
            return;
        }
        tcb.state = tcb.fin_queued ? TcpState::fin_wait_1 : TcpState::established;
        tcb.snd_una = segment.ack;
        tcb.snd_wnd = tcp::decode_window(segment.window, tcb.snd_wscale);
        tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = segment.ack;
        tcb.timers.rexmt.reset();
        tcb.timers.conn_establish.reset();
        take_rtt_sample(tcb, segment, now);
        if (!tcb.ts_ok && tcb.rto_count == 0) tcb.rto.on_rtt_sample(now - tcb.rtt_start);
        tcb.rexmt_count = 0;
        tcb.scoreboard = tcp::SackScoreboard(tcb.snd_una, tcb.max_payload());
        out.add_event(kTcpConnected | kTcpWritable);
    }
    // RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT (SND.MAX here,
    // since SND.NXT rewinds on a timeout); otherwise ACK (rate limited) and drop.
    if (tcp::gt(segment.ack, tcb.snd_max) || tcp::lt(segment.ack, tcb.snd_una - tcb.max_snd_wnd)) {
        send_challenge_ack(tcb, now, out);
        return;
    }
    // RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": data outstanding, no data or SYN/FIN carried,
    // SEG.ACK == SND.UNA, the advertised window unchanged (compared before the update below).
    const bool duplicate = segment.ack == tcb.snd_una && tcb.snd_una != tcb.snd_max &&
                           segment.payload.empty() && !segment.has(fin) &&
                           tcp::decode_window(segment.window, tcb.snd_wscale) == tcb.snd_wnd;
    if (tcp::gt(segment.ack, tcb.snd_una)) {
        process_new_ack(tcb, segment, now, out);
    } else if (duplicate) {
        deliver_in_dup_ack(tcb, now, out);
    }
    if (tcb.sack_ok && segment.options.sack_count > 0) {
        tcb.scoreboard.on_ack(tcb.snd_una,
                              {segment.options.sack_blocks.data(), segment.options.sack_count},
                              tcb.snd_max);
    }
    // Window update (RFC 9293 3.10.7.4 "fifth", the SND.WL1/SND.WL2 rule).
    if (tcp::lt(tcb.snd_wl1, segment.seq) ||
        (tcb.snd_wl1 == segment.seq && tcp::le(tcb.snd_wl2, segment.ack))) {
        tcb.snd_wnd = tcp::decode_window(segment.window, tcb.snd_wscale);
        tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = segment.ack;
    }
    if (tcb.fin_acked) {
        switch (tcb.state) {
            case TcpState::fin_wait_1: tcb.state = TcpState::fin_wait_2; break;
            case TcpState::closing: enter_time_wait(tcb, now, out); break;
            case TcpState::last_ack: drop_connection(tcb, TcpError::none, out); return;
            default: break;
        }
    }
    // "sixth": URG is ignored (RFC 6093 discourages it; the data is delivered inline).
    // "seventh": text, only while the peer may still send.
    bool ack_now = false;
    const bool may_receive = tcb.state == TcpState::established ||
                             tcb.state == TcpState::fin_wait_1 || tcb.state == TcpState::fin_wait_2;
    if (may_receive && !segment.payload.empty()) ack_now = process_text(tcb, segment, out);
    // "eighth": FIN, once everything before it is in sequence.
    if (segment.has(fin) && may_receive) {
        const SeqNum fin_at = segment.seq + static_cast<std::uint32_t>(segment.payload.size());
        if (fin_at == tcb.rcv_nxt) {
            consume_fin(tcb, now, out);
            ack_now = false;
        } else if (tcp::gt(fin_at, tcb.rcv_nxt)) {
            tcb.ooo_fin = fin_at;
        }
    } else if (tcb.ooo_fin && *tcb.ooo_fin == tcb.rcv_nxt && may_receive) {
        consume_fin(tcb, now, out);
        ack_now = false;
    }
    if (ack_now) send_ack(tcb, now, out);
    output_tcp(tcb, now, out);
}

}  // namespace netloom::utcp
