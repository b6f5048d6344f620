// Inbound packets: what the script injects, built from its line alone (reference §11), with
// the sequence and timestamp mapping of §9 (outbound checks: packet_checks.cpp).
#include <algorithm>
#include <cstdio>

#include "drill/interpreter_impl.hpp"
#include "drill/packet_fields.hpp"

namespace netloom::drill {

using namespace packet_fields;

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

}  // namespace netloom::drill
