// Packets: building what the script injects (reference §11) and checking what the stack sent
// against the script's line (§10), with the sequence and timestamp mapping of §9.
#include <algorithm>
#include <cstdio>

#include "drill/interpreter_impl.hpp"

namespace netloom::drill {

std::string seconds_text(std::int64_t usecs);

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                       kEce = 0x40, kCwr = 0x80;

struct Flags {
    std::uint8_t bits = 0;
    std::uint8_t reserved = 0;  // AE is bit 0
};

// Letters of reference §8; a digit 0-7 is the AccECN ACE field (AE, CWR, ECE from high to low).
Flags parse_flags(const std::string& text, int line) {
    Flags f;
    if (text == "-") return f;
    for (char c : text) {
        switch (c) {
            case 'S': f.bits |= kSyn; break;
            case 'F': f.bits |= kFin; break;
            case 'R': f.bits |= kRst; break;
            case 'P': f.bits |= kPsh; break;
            case '.': f.bits |= kAck; break;
            case 'U': f.bits |= kUrg; break;
            case 'E': f.bits |= kEce; break;
            case 'W': f.bits |= kCwr; break;
            case 'A': f.reserved |= 0x01; break;
            case ' ': break;
            default:
                if (c >= '0' && c <= '7') {
                    const int ace = c - '0';
                    if (ace & 4) f.reserved |= 0x01;
                    if (ace & 2) f.bits |= kCwr;
                    if (ace & 1) f.bits |= kEce;
                    break;
                }
                throw ScriptInvalid{line, std::string("unknown TCP flag '") + c + "'"};
        }
    }
    return f;
}

void put16(std::vector<std::uint8_t>& o, std::uint32_t v) {
    o.push_back(static_cast<std::uint8_t>(v >> 8));
    o.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& o, std::uint32_t v) {
    put16(o, v >> 16);
    put16(o, v & 0xffff);
}
std::uint32_t get32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

struct WireOption {
    std::uint8_t kind;
    std::vector<std::uint8_t> data;  // after kind and length
};

// Splits an options area; a malformed one yields what could be read and `ok` false.
std::vector<WireOption> split_options(const std::vector<std::uint8_t>& o, bool& ok) {
    std::vector<WireOption> out;
    ok = true;
    std::size_t i = 0;
    while (i < o.size()) {
        const std::uint8_t kind = o[i];
        if (kind == 0 || kind == 1) {
            out.push_back({kind, {}});
            ++i;
            continue;
        }
        if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
            ok = false;
            break;
        }
        out.push_back(
            {kind, std::vector<std::uint8_t>(o.begin() + static_cast<long>(i) + 2,
                                             o.begin() + static_cast<long>(i) + o[i + 1])});
        i += o[i + 1];
    }
    return out;
}

std::uint8_t option_kind(TcpOptionSpec::Kind k, std::uint8_t raw) {
    switch (k) {
        case TcpOptionSpec::Kind::eol: return 0;
        case TcpOptionSpec::Kind::nop: return 1;
        case TcpOptionSpec::Kind::mss: return 2;
        case TcpOptionSpec::Kind::window_scale: return 3;
        case TcpOptionSpec::Kind::sack_permitted: return 4;
        case TcpOptionSpec::Kind::sack: return 5;
        case TcpOptionSpec::Kind::timestamp: return 8;
        case TcpOptionSpec::Kind::md5: return 19;
        case TcpOptionSpec::Kind::fast_open: return 34;
        case TcpOptionSpec::Kind::fast_open_exp: return 254;
        case TcpOptionSpec::Kind::generic: return raw;
    }
    return raw;
}

}  // namespace

// ---- inbound ----------------------------------------------------------------------------------

std::vector<std::uint8_t> Interpreter::encode_options(const Event& event,
                                                      const TcpSegmentSpec& spec, bool ack_set) {
    std::vector<std::uint8_t> o;
    if (!spec.options) return o;
    for (const TcpOptionSpec& opt : *spec.options) {
        const std::uint8_t kind = option_kind(opt.kind, opt.raw_kind);
        switch (opt.kind) {
            case TcpOptionSpec::Kind::eol:
            case TcpOptionSpec::Kind::nop: o.push_back(kind); break;
            case TcpOptionSpec::Kind::mss:
                o.insert(o.end(), {kind, 4});
                put16(o, opt.value);
                break;
            case TcpOptionSpec::Kind::window_scale:
                o.insert(o.end(), {kind, 3, static_cast<std::uint8_t>(opt.value)});
                break;
            case TcpOptionSpec::Kind::sack_permitted: o.insert(o.end(), {kind, 2}); break;
            case TcpOptionSpec::Kind::sack:
                o.insert(o.end(),
                         {kind, static_cast<std::uint8_t>(2 + 8 * opt.sack_blocks.size())});
                // The peer acknowledges the stack's data: edges are relative to the stack's ISN.
                for (auto [left, right] : opt.sack_blocks) {
                    put32(o, map_.inbound_ack(left, false));
                    put32(o, map_.inbound_ack(right, false));
                }
                break;
            case TcpOptionSpec::Kind::timestamp: {
                o.insert(o.end(), {kind, 10});
                put32(o, opt.ts_val);
                std::uint32_t ecr = opt.ts_ecr;
                if (ack_set && !opt.ts_ecr_absolute) {
                    auto live = map_.inbound_ecr(opt.ts_ecr);
                    if (!live && opt.ts_ecr != 0) {
                        throw ScriptFailure{event.at.line, "unable to infer live TS ecr " +
                                                               std::to_string(opt.ts_ecr) +
                                                               ": no outbound TS val seen yet"};
                    }
                    ecr = live.value_or(0);
                }
                put32(o, ecr);
                break;
            }
            case TcpOptionSpec::Kind::fast_open:
            case TcpOptionSpec::Kind::generic:
                o.insert(o.end(), {kind, static_cast<std::uint8_t>(2 + opt.bytes.size())});
                o.insert(o.end(), opt.bytes.begin(), opt.bytes.end());
                break;
            case TcpOptionSpec::Kind::fast_open_exp:
                o.insert(o.end(),
                         {kind, static_cast<std::uint8_t>(4 + opt.bytes.size()), 0xf9, 0x89});
                o.insert(o.end(), opt.bytes.begin(), opt.bytes.end());
                break;
            case TcpOptionSpec::Kind::md5:
                if (opt.md5_valid)
                    throw ScriptUnsupported{event.at.line, "TCP MD5 signatures (md5 valid)"};
                o.insert(o.end(), {kind, static_cast<std::uint8_t>(2 + opt.bytes.size())});
                o.insert(o.end(), opt.bytes.begin(), opt.bytes.end());
                break;
        }
    }
    if (o.size() > 40) throw ScriptInvalid{event.at.line, "TCP options longer than 40 bytes"};
    return o;
}

void Interpreter::inbound(const Event& event, const PacketEvent& packet) {
    if (const auto* tcp = std::get_if<TcpSegmentSpec>(&packet.body)) {
        inbound_tcp(event, packet, *tcp);
    } else if (const auto* icmp = std::get_if<IcmpSpec>(&packet.body)) {
        inbound_icmp(event, *icmp);
    } else {
        throw ScriptUnsupported{event.at.line, "inbound UDP packets (no UDP socket calls)"};
    }
}

namespace {
std::uint8_t ecn_bits(Ecn ecn) {
    switch (ecn) {
        case Ecn::ect0: return 2;
        case Ecn::ect1: return 1;
        case Ecn::ce: return 3;
        default: return 0;
    }
}
}  // namespace

void Interpreter::inbound_tcp(const Event& event, const PacketEvent& packet,
                              const TcpSegmentSpec& spec) {
    if (spec.udp_encapsulation)
        throw ScriptUnsupported{event.at.line, "TCP over UDP encapsulation (/udp)"};
    const Flags flags = parse_flags(spec.flags, event.at.line);
    const bool syn = flags.bits & kSyn;
    const bool ack = flags.bits & kAck;
    if (!spec.window)
        throw ScriptInvalid{event.at.line,
                            "semantic error: window must be specified for inbound "
                            "packets"};
    if (syn && !ack && (state_ == TestState::listening || state_ == TestState::init)) {
        // A SYN for a listener (or with no socket at all) starts a child connection: a passive
        // open whose peer ISN anchors the script's numbers from now on.
        map_.learn_remote_isn(spec.seq_start);
        state_ = TestState::passive_syn_received;
        local_port_ = settings_.bind_port;
    } else if (syn && ack && state_ == TestState::active_syn_sent) {
        map_.learn_remote_isn(spec.seq_start);  // the SYN-ACK answering our SYN
        state_ = TestState::active_syn_acked;
    }
    if (local_port_ == 0 && state_ == TestState::active_connecting)
        throw ScriptFailure{event.at.line,
                            "no connection under test yet to send this packet to "
                            "(the stack has not sent its SYN)"};
    if (local_port_ == 0) local_port_ = settings_.bind_port;
    Ipv4Fields ip;
    ip.source = remote_ip_;
    ip.destination = local_ip_;
    if (packet.ip.tos) ip.tos = *packet.ip.tos;
    if (packet.ip.dscp) ip.tos = static_cast<std::uint8_t>(*packet.ip.dscp << 2);
    ip.tos = static_cast<std::uint8_t>((ip.tos & 0xfc) | ecn_bits(packet.ip.ecn));
    if (packet.ip.ttl) ip.ttl = *packet.ip.ttl;
    TcpFields tcp;
    if (spec.ports) {
        tcp.source_port = spec.ports->first;
        tcp.destination_port = spec.ports->second;
    } else {
        tcp.source_port = remote_port_;
        tcp.destination_port = local_port_;
    }
    tcp.seq = spec.seq_absolute ? spec.seq_start : map_.inbound_seq(spec.seq_start, syn);
    if (spec.ack)
        tcp.ack = ack && !spec.seq_absolute ? map_.inbound_ack(*spec.ack, syn) : *spec.ack;
    tcp.flags = flags.bits;
    tcp.reserved = flags.reserved;
    tcp.window = static_cast<std::uint16_t>(*spec.window);
    tcp.urgent = static_cast<std::uint16_t>(spec.urgent.value_or(0));
    tcp.options = encode_options(event, spec, ack);
    if (tcp.options.size() % 4 != 0)
        throw ScriptInvalid{event.at.line,
                            "semantic error: TCP options not padded to a multiple "
                            "of 4 bytes"};
    tcp.payload_length = spec.length;
    if (spec.length > 65495 - tcp.options.size())
        throw ScriptInvalid{event.at.line, "inbound payload longer than an IPv4 datagram allows"};
    auto datagram = build_tcp(ip, tcp);
    target_.inject(datagram);
}

namespace {
struct IcmpName {
    const char* name;
    int value;
};
constexpr IcmpName kIcmpTypes[] = {
    {"echo_reply", 0},          {"unreachable", 3},
    {"source_quench", 4},       {"redirect", 5},
    {"echo_request", 8},        {"time_exceeded", 11},
    {"parameter_problem", 12},  {"timestamp_request", 13},
    {"timestamp_reply", 14},    {"information_request", 15},
    {"information_reply", 16},  {"address_mask_request", 17},
    {"address_mask_reply", 18},
};
constexpr IcmpName kUnreachableCodes[] = {
    {"net_unreachable", 0},
    {"host_unreachable", 1},
    {"protocol_unreachable", 2},
    {"port_unreachable", 3},
    {"frag_needed", 4},
    {"source_route_failed", 5},
    {"net_unknown", 6},
    {"host_unknown", 7},
    {"source_host_isolated", 8},
    {"net_prohibited", 9},
    {"host_prohibited", 10},
    {"net_unreachable_for_tos", 11},
    {"host_unreachable_for_tos", 12},
    {"packet_filtered", 13},
    {"precedence_violation", 14},
    {"precedence_cutoff", 15},
};
constexpr IcmpName kTimeExceededCodes[] = {{"ttl_exceeded_in_transit", 0},
                                           {"frag_reass_exceeded", 1}};

std::optional<int> icmp_number(const std::string& text, const char* prefix,
                               std::span<const IcmpName> names) {
    for (const auto& n : names)
        if (text == n.name) return n.value;
    const std::string p = prefix;
    if (text.rfind(p, 0) == 0 && text.size() > p.size()) {
        try {
            std::size_t used = 0;
            int v = std::stoi(text.substr(p.size()), &used);
            if (used == text.size() - p.size() && v >= 0 && v <= 255) return v;
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}
}  // namespace

void Interpreter::inbound_icmp(const Event& event, const IcmpSpec& spec) {
    auto type = icmp_number(spec.type, "type_", kIcmpTypes);
    if (!type) throw ScriptInvalid{event.at.line, "unknown ICMP type '" + spec.type + "'"};
    int code = 0;
    if (!spec.code.empty()) {
        std::optional<int> c = icmp_number(spec.code, "code_", {});
        if (!c && *type == 3) c = icmp_number(spec.code, "code_", kUnreachableCodes);
        if (!c && *type == 11) c = icmp_number(spec.code, "code_", kTimeExceededCodes);
        if (!c) throw ScriptInvalid{event.at.line, "unknown ICMP code '" + spec.code + "'"};
        code = *c;
    }
    if (spec.echoed != IcmpSpec::Echoed::tcp)
        throw ScriptUnsupported{event.at.line, "ICMP quoting a UDP or raw datagram"};
    // The quoted datagram is one the stack sent: local -> remote, its sequence number in the
    // stack's space (RFC 792: IP header + the first 8 bytes of the transport header).
    Ipv4Fields quoted_ip;
    quoted_ip.source = local_ip_;
    quoted_ip.destination = remote_ip_;
    quoted_ip.protocol = 6;
    quoted_ip.ttl = 64;
    quoted_ip.dont_fragment = true;
    auto quoted =
        build_ipv4_header(quoted_ip, static_cast<std::uint16_t>(20 + 20 + spec.echoed_length));
    put16(quoted, local_port_);
    put16(quoted, remote_port_);
    put32(quoted, map_.inbound_ack(spec.echoed_start, false));
    Ipv4Fields ip;
    ip.source = remote_ip_;  // the script's routers are the peer, as packetdrill does
    ip.destination = local_ip_;
    ip.protocol = 1;
    std::uint32_t rest = 0;
    if (spec.mtu) rest = *spec.mtu & 0xffff;  // RFC 1191: next-hop MTU in the low 16 bits
    if (spec.id) rest |= (*spec.id & 0xffff) << 16;
    target_.inject(build_icmp(ip, static_cast<std::uint8_t>(*type), static_cast<std::uint8_t>(code),
                              rest, quoted));
}

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
                want = {0xf9, 0x89};
                want.insert(want.end(), e.bytes.begin(), e.bytes.end());
                break;
            default: want = e.bytes; break;
        }
        if (a.data != want) return bad("option " + std::to_string(i + 1) + " differs");
    }
}

}  // namespace netloom::drill
