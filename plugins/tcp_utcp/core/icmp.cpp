// icmp.cpp — deliver_icmp (RFC 5927, RFC 1122 4.2.3.9, RFC 1191) and time_wait_accepts_syn
// (RFC 6191, RFC 9293 3.10.7.4 TIME-WAIT note).
#include <algorithm>

#include "core/detail.hpp"

namespace netloom::utcp {

using namespace wire::tcp_flag;

namespace {

constexpr std::uint8_t kDestinationUnreachable = 3;
constexpr std::uint8_t kSourceQuench = 4;
constexpr std::uint8_t kProtocolUnreachable = 2;
constexpr std::uint8_t kPortUnreachable = 3;
constexpr std::uint8_t kFragmentationNeeded = 4;
constexpr std::uint16_t kMinIpv4Mtu = 68;      // RFC 791: every host must pass 68 bytes
constexpr std::uint16_t kMinSendMss = 536;     // RFC 9293 3.7.1 default / RFC 1122 floor
constexpr std::uint16_t kIpv4TcpHeaders = 40;  // 20 IPv4 + 20 TCP, options counted per segment

void lower_mss(Tcb& tcb, std::uint16_t next_hop_mtu, Time now, Outputs& out) {
    // RFC 1191 / RFC 1122: an MTU below 68 is bogus; a plausible one lowers the send MSS (never
    // raises it: ICMP can only tell us the path got smaller), not below 536.
    if (next_hop_mtu < kMinIpv4Mtu) return;
    const auto mss = static_cast<std::uint16_t>(
        std::max<int>(kMinSendMss, static_cast<int>(next_hop_mtu) - kIpv4TcpHeaders));
    if (mss >= tcb.snd_mss) return;
    tcb.snd_mss = mss;
    if (tcb.scoreboard) tcb.scoreboard->set_mss(tcb.max_payload());
    if (!tcb.synchronized()) return;  // the SYN carries no data; later segments use the new MSS
    // The segments in flight were too big and are gone: resend from SND.UNA at the new size.
    // This is not a congestion signal (RFC 1191 6.5), so cwnd stays; Karn applies.
    tcb.snd_nxt = tcb.snd_una;
    tcb.rtt_seq.reset();
    tcb.scoreboard.reset();
    output_tcp(tcb, now, out);
}

}  // namespace

void deliver_icmp(Tcb& tcb, std::uint8_t type, std::uint8_t code, SeqNum quoted_seq,
                  std::uint16_t next_hop_mtu, Time now, Outputs& out) {
    if (tcb.state == TcpState::closed || tcb.state == TcpState::listen ||
        tcb.state == TcpState::time_wait)
        return;
    // RFC 5927 4.1: an ICMP error must quote a sequence number we have in flight; anything else
    // is stale or forged (blind connection-reset and throughput attacks).
    if (!tcp::in_window(quoted_seq, tcb.snd_una, tcp::forward_distance(tcb.snd_una, tcb.snd_max)))
        return;
    if (type == kSourceQuench) return;  // RFC 6633: ignored
    if (type == kDestinationUnreachable && code == kFragmentationNeeded) {
        lower_mss(tcb, next_hop_mtu, now, out);
        return;
    }
    const bool hard = type == kDestinationUnreachable &&
                      (code == kProtocolUnreachable || code == kPortUnreachable);
    // RFC 1122 4.2.3.9: codes 2-4 are hard errors and abort; RFC 5461 lets a synchronized
    // connection survive them (a transient routing problem must not kill it), so only a
    // connection still opening is aborted. Everything else is a soft error, reported only if
    // the connection later gives up. The peer host answered that nobody takes the connection
    // there, which is what a RST says: the opening is refused (ECONNREFUSED, as on Linux).
    if (hard && (tcb.state == TcpState::syn_sent || tcb.state == TcpState::syn_received)) {
        drop_connection(tcb, TcpError::refused, out);
        return;
    }
    if (type == kDestinationUnreachable || type == 11 /* time exceeded */ ||
        type == 12 /* parameter problem */)
        tcb.soft_error = TcpError::unreachable;
}

bool time_wait_accepts_syn(const Tcb& tcb, const Segment& syn_segment) {
    if (tcb.state != TcpState::time_wait) return false;
    if (!syn_segment.syn() || syn_segment.ack.has_value() || syn_segment.rst()) return false;
    // RFC 6191 2: with timestamps on the old connection and on the SYN, a newer TSval proves the
    // SYN is not an old duplicate of this connection.
    if (tcb.ts_ok && syn_segment.options.timestamps)
        return static_cast<std::int32_t>(syn_segment.options.timestamps->value - tcb.ts_recent) > 0;
    // RFC 9293 3.10.7.4 / RFC 1122 4.2.2.13: otherwise only a SEQ above what the old
    // connection could still deliver.
    return tcp::gt(syn_segment.seq, tcb.rcv_nxt);
}

}  // namespace netloom::utcp
