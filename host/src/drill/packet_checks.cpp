// Outbound packets: the next datagram of the connection under test checked against the script's
// line (reference §10), with the sequence and timestamp mapping of §9.
#include <cstdio>

#include "drill/interpreter_impl.hpp"
#include "drill/packet_fields.hpp"

namespace netloom::drill {

std::string seconds_text(std::int64_t usecs);
using namespace packet_fields;

// ---- outbound ---------------------------------------------------------------------------------

bool Interpreter::belongs_to_test(const DecodedPacket& p, const PacketEvent& expected) {
    if (p.protocol != 6) return !std::holds_alternative<TcpSegmentSpec>(expected.body);
    if (p.source != local_ip_ || p.destination != remote_ip_) return false;
    const bool syn_only = (p.tcp.flags & kSyn) && !(p.tcp.flags & kAck);
    if (state_ == TestState::active_connecting && syn_only &&
        p.tcp.destination_port == settings_.connect_port) {
        local_port_ = p.tcp.source_port;  // the first SYN of an active open fixes the port
    }
    return p.tcp.source_port == local_port_ && p.tcp.destination_port == remote_port_;
}

void Interpreter::outbound(const Event& event, const PacketEvent& packet, const Timing& timing) {
    // Give up 2 s after the time the packet was due (a `*` packet: after kBlockingLimitUs).
    const std::int64_t due = timing.start ? timing.end : previous_end_ + kBlockingLimitUs;
    const std::int64_t deadline = due + timing.tolerance + 2'000'000;
    for (;;) {
        auto captured = target_.next_packet(start_us_ + deadline);
        if (!captured) {
            throw ScriptFailure{event.at.line,
                                "Timed out waiting for packet\n  script packet: " + event.source};
        }
        std::string error;
        auto decoded = decode_ipv4(captured->datagram, error);
        if (!decoded) continue;  // not IPv4 (the target filters L2); nothing to compare
        if (!belongs_to_test(*decoded, packet)) continue;
        const std::int64_t at = captured->at_us - start_us_;
        previous_end_ = at;
        if (const auto* tcp = std::get_if<TcpSegmentSpec>(&packet.body)) {
            check_tcp(event, packet, *tcp, *decoded);
        } else if (const auto* icmp = std::get_if<IcmpSpec>(&packet.body)) {
            (void)icmp;
            if (decoded->protocol != 1)
                packet_mismatch(event, "expected an ICMP packet", *decoded, at);
        } else if (const auto* udp = std::get_if<UdpSpec>(&packet.body)) {
            if (decoded->protocol != 17 || decoded->udp_length != 8 + udp->length)
                packet_mismatch(event, "expected a UDP datagram of the given length", *decoded, at);
        }
        if (timing.start &&
            (at < *timing.start - timing.tolerance || at > timing.end + timing.tolerance)) {
            const std::string message = "timing error: expected outbound packet at " +
                                        seconds_text(*timing.start) + " sec but happened at " +
                                        seconds_text(at) + " sec; tolerance " +
                                        seconds_text(timing.tolerance) + " sec";
            if (settings_.non_fatal_packet) {
                warnings.push_back(std::to_string(event.at.line) + ": " + message);
            } else {
                throw ScriptFailure{event.at.line,
                                    message + "\n  script packet: " + event.source +
                                        "\n  actual packet: " + describe_actual(*decoded, at)};
            }
        }
        return;
    }
}

std::string Interpreter::describe_actual(const DecodedPacket& p, std::int64_t at_us) const {
    if (p.protocol != 6) {
        return seconds_text(at_us) + " protocol " + std::to_string(p.protocol) +
               (p.protocol == 1 ? " icmp type " + std::to_string(p.icmp_type) + " code " +
                                      std::to_string(p.icmp_code)
                                : "");
    }
    const bool syn = p.tcp.flags & kSyn;
    const std::uint32_t seq = map_.outbound_seq(p.tcp.seq, syn);
    std::string s = seconds_text(at_us) + " " + flags_text(p.tcp.flags, p.tcp.reserved) + " " +
                    std::to_string(seq) + ":" + std::to_string(seq + p.tcp.payload_length) + "(" +
                    std::to_string(p.tcp.payload_length) + ")";
    if (p.tcp.flags & kAck) s += " ack " + std::to_string(map_.outbound_ack(p.tcp.ack, syn));
    s += " win " + std::to_string(p.tcp.window);
    if (!p.tcp.options.empty())
        s += " <" + describe_options(p.tcp.options, map_.remote_isn()) + ">";
    return s;
}

void Interpreter::packet_mismatch(const Event& event, const std::string& what,
                                  const DecodedPacket& actual, std::int64_t at_us) {
    const std::string message = "error handling packet: " + what +
                                "\n  script packet: " + event.source +
                                "\n  actual packet: " + describe_actual(actual, at_us);
    if (settings_.non_fatal_packet) {
        warnings.push_back(std::to_string(event.at.line) + ": " + message);
        return;
    }
    throw ScriptFailure{event.at.line, message};
}

namespace {
std::string field(const char* name, std::uint64_t expected, std::uint64_t actual) {
    char buffer[160];
    std::snprintf(buffer, sizeof buffer,
                  "live packet field %s: expected: %llu (0x%llx) vs actual: %llu (0x%llx)", name,
                  static_cast<unsigned long long>(expected),
                  static_cast<unsigned long long>(expected),
                  static_cast<unsigned long long>(actual), static_cast<unsigned long long>(actual));
    return buffer;
}
}  // namespace

void Interpreter::check_tcp(const Event& event, const PacketEvent& packet,
                            const TcpSegmentSpec& spec, const DecodedPacket& p) {
    const std::int64_t at = previous_end_;
    if (p.protocol != 6) {
        packet_mismatch(event, "expected a TCP segment", p, at);
        return;
    }
    const Flags flags = parse_flags(spec.flags, event.at.line);
    const bool syn = p.tcp.flags & kSyn;
    // The stack's ISN is learned once per connection: from the SYN of an active open, or the
    // SYN-ACK of a passive one (what the script wrote there is its script-space ISN, usually 0).
    const std::uint32_t script_isn = spec.seq_any || spec.seq_absolute ? 0 : spec.seq_start;
    if (syn && !(p.tcp.flags & kAck) && state_ == TestState::active_connecting) {
        map_.learn_local_isn(p.tcp.seq, script_isn);
        state_ = TestState::active_syn_sent;
    } else if (syn && (p.tcp.flags & kAck) && state_ == TestState::passive_syn_received) {
        map_.learn_local_isn(p.tcp.seq, script_isn);
        state_ = TestState::passive_synack_sent;
    }

    struct Bit {
        const char* name;
        bool expected, actual;
    };
    const Bit bits[] = {
        {"tcp_syn", (flags.bits & kSyn) != 0, (p.tcp.flags & kSyn) != 0},
        {"tcp_fin", (flags.bits & kFin) != 0, (p.tcp.flags & kFin) != 0},
        {"tcp_rst", (flags.bits & kRst) != 0, (p.tcp.flags & kRst) != 0},
        {"tcp_psh", (flags.bits & kPsh) != 0, (p.tcp.flags & kPsh) != 0},
        {"tcp_ack", (flags.bits & kAck) != 0, (p.tcp.flags & kAck) != 0},
        {"tcp_urg", (flags.bits & kUrg) != 0, (p.tcp.flags & kUrg) != 0},
        {"tcp_ece", (flags.bits & kEce) != 0, (p.tcp.flags & kEce) != 0},
        {"tcp_cwr", (flags.bits & kCwr) != 0, (p.tcp.flags & kCwr) != 0},
        {"tcp_ae", (flags.reserved & 1) != 0, (p.tcp.reserved & 1) != 0},
    };
    for (const Bit& b : bits) {
        if (b.expected != b.actual)
            return packet_mismatch(event, field(b.name, b.expected, b.actual), p, at);
    }
    if (!spec.any_options) {
        std::size_t options_length = 0;
        if (spec.options) {
            for (const auto& o : *spec.options) {
                switch (o.kind) {
                    case TcpOptionSpec::Kind::nop:
                    case TcpOptionSpec::Kind::eol: options_length += 1; break;
                    case TcpOptionSpec::Kind::mss: options_length += 4; break;
                    case TcpOptionSpec::Kind::window_scale: options_length += 3; break;
                    case TcpOptionSpec::Kind::sack_permitted: options_length += 2; break;
                    case TcpOptionSpec::Kind::sack:
                        options_length += 2 + 8 * o.sack_blocks.size();
                        break;
                    case TcpOptionSpec::Kind::timestamp: options_length += 10; break;
                    case TcpOptionSpec::Kind::fast_open_exp:
                        options_length += 4 + o.bytes.size();
                        break;
                    default: options_length += 2 + o.bytes.size(); break;
                }
            }
        }
        const std::uint64_t total = 20 + 20 + options_length + spec.length;
        if (p.total_length != total)
            return packet_mismatch(event, field("ipv4_total_length", total, p.total_length), p, at);
        const std::uint64_t offset = (20 + options_length) / 4;
        if (p.tcp_data_offset != offset)
            return packet_mismatch(event, field("tcp_data_offset", offset, p.tcp_data_offset), p,
                                   at);
    } else if (p.tcp.payload_length != spec.length) {
        return packet_mismatch(event, field("tcp_payload_len", spec.length, p.tcp.payload_length),
                               p, at);
    }
    if ((p.tcp.reserved & 0x0e) != 0)
        return packet_mismatch(event, field("tcp_reserved_bits", 0, p.tcp.reserved & 0x0e), p, at);
    if (!spec.seq_any) {
        const std::uint32_t seq = spec.seq_absolute ? p.tcp.seq : map_.outbound_seq(p.tcp.seq, syn);
        if (seq != spec.seq_start)
            return packet_mismatch(event, field("tcp_seq", spec.seq_start, seq), p, at);
    }
    const std::uint32_t expected_ack = spec.ack.value_or(0);
    const std::uint32_t ack =
        (p.tcp.flags & kAck) && !spec.seq_absolute ? map_.outbound_ack(p.tcp.ack, syn) : p.tcp.ack;
    if (ack != expected_ack)
        return packet_mismatch(event, field("tcp_ack_seq", expected_ack, ack), p, at);
    if (spec.window && p.tcp.window != *spec.window)
        return packet_mismatch(event, field("tcp_window", *spec.window, p.tcp.window), p, at);
    if (p.tcp.urgent != spec.urgent.value_or(0))
        return packet_mismatch(event, field("tcp_urg_ptr", spec.urgent.value_or(0), p.tcp.urgent),
                               p, at);
    // IP-level fields are compared only when the line gives them (reference §10, §12).
    const IpInfo& ipi = packet.ip;
    if (ipi.tos && p.tos != *ipi.tos)
        return packet_mismatch(event, field("tos", *ipi.tos, p.tos), p, at);
    if (ipi.dscp && (p.tos >> 2) != *ipi.dscp)
        return packet_mismatch(event, field("dscp", *ipi.dscp, p.tos >> 2), p, at);
    if (ipi.ecn != Ecn::unspecified) {
        const std::uint8_t ecn = p.tos & 3;
        const bool ok = ipi.ecn == Ecn::ect01 ? (ecn == 1 || ecn == 2) : ecn == ecn_bits(ipi.ecn);
        if (!ok) return packet_mismatch(event, field("ecn", ecn_bits(ipi.ecn), ecn), p, at);
    }
    if (ipi.ttl && p.ttl != *ipi.ttl)
        return packet_mismatch(event, field("ttl", *ipi.ttl, p.ttl), p, at);
    if (!p.header_checksum_ok)
        return packet_mismatch(event, "bad outbound IPv4 header checksum", p, at);
    if (!spec.any_options) check_options(event, spec, p);
    if (!p.payload_all_zero)
        return packet_mismatch(event, "incorrect outbound data payload", p, at);
}

void Interpreter::check_options(const Event& event, const TcpSegmentSpec& spec,
                                const DecodedPacket& p) {
    const std::int64_t at = previous_end_;
    bool ok = true;
    auto actual = split_options(p.tcp.options, ok);
    static const std::vector<TcpOptionSpec> none;
    const auto& expected = spec.options ? *spec.options : none;
    auto bad = [&](const std::string& why) {
        std::string expected_text;
        for (std::size_t i = event.source.find('<'); i != std::string::npos;) {
            expected_text = event.source.substr(i);
            break;
        }
        packet_mismatch(event,
                        "bad outbound TCP options: " + why + "\n  expected options: " +
                            (expected.empty() ? std::string("none") : expected_text),
                        p, at);
    };
    if (!ok) return bad("malformed options area");
    if (actual.size() != expected.size()) return bad("different number of options");
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const TcpOptionSpec& e = expected[i];
        const WireOption& a = actual[i];
        const std::uint8_t kind = option_kind(e.kind, e.raw_kind);
        if (a.kind != kind)
            return bad("option " + std::to_string(i + 1) + " is kind " + std::to_string(a.kind) +
                       ", expected kind " + std::to_string(kind));
        std::vector<std::uint8_t> want;
        switch (e.kind) {
            case TcpOptionSpec::Kind::nop:
            case TcpOptionSpec::Kind::eol:
            case TcpOptionSpec::Kind::sack_permitted: break;
            case TcpOptionSpec::Kind::mss: put16(want, e.value); break;
            case TcpOptionSpec::Kind::window_scale:
                want.push_back(static_cast<std::uint8_t>(e.value));
                break;
            case TcpOptionSpec::Kind::sack:
                for (auto [left, right] : e.sack_blocks) {
                    put32(want, left);
                    put32(want, right);
                }
                if (a.data.size() == want.size()) {  // compare in script space
                    std::vector<std::uint8_t> mapped;
                    for (std::size_t b = 0; b + 8 <= a.data.size(); b += 8) {
                        put32(mapped, map_.outbound_sack_edge(get32(&a.data[b])));
                        put32(mapped, map_.outbound_sack_edge(get32(&a.data[b + 4])));
                    }
                    if (mapped != want) return bad("SACK blocks differ");
                    continue;
                }
                break;
            case TcpOptionSpec::Kind::timestamp:
                if (a.data.size() != 8) return bad("timestamp option of the wrong length");
                // TSval is not compared (reference §9); it is recorded so that the script's
                // TSecr values can be mapped back to the stack's clock.
                if (!e.ts_val_any) map_.record_ts(e.ts_val, get32(a.data.data()));
                continue;
            case TcpOptionSpec::Kind::fast_open_exp:
                want = e.bytes;  // after the experiment ID 0xF989 (RFC 6994)
                want.insert(want.begin(), {0xf9, 0x89});
                break;
            default: want = e.bytes; break;
        }
        if (a.data != want) return bad("option " + std::to_string(i + 1) + " differs");
    }
}

}  // namespace netloom::drill
