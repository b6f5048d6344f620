// Building and decoding IPv4/TCP/ICMP/UDP datagrams for the drill interpreter.
#include "drill/packet_codec.hpp"

#include <cstdio>

namespace netloom::drill {
namespace {

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
    out[at] = static_cast<std::uint8_t>(v >> 8);
    out[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
    put16(out, at, v >> 16);
    put16(out, at + 2, v & 0xffff);
}
std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
    return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

// The sum (not folded) of the pseudo-header of RFC 9293 3.1 / RFC 768.
std::uint32_t pseudo_header_sum(const Ipv4Fields& ip, std::uint8_t protocol, std::size_t length) {
    std::uint32_t sum = 0;
    sum += ip.source >> 16;
    sum += ip.source & 0xffff;
    sum += ip.destination >> 16;
    sum += ip.destination & 0xffff;
    sum += protocol;
    sum += static_cast<std::uint32_t>(length);
    return sum;
}

void write_ipv4_header(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, std::uint8_t protocol,
                       std::size_t total_length) {
    out[0] = 0x45;
    out[1] = ip.tos;
    put16(out, 2, static_cast<std::uint32_t>(total_length));
    put16(out, 4, ip.id);
    put16(out, 6, ip.dont_fragment ? 0x4000 : 0);
    out[8] = ip.ttl;
    out[9] = protocol;
    put16(out, 10, 0);
    put32(out, 12, ip.source);
    put32(out, 16, ip.destination);
    put16(out, 10, internet_checksum(std::span(out).first(20)));
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
    std::uint64_t sum = initial;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += (std::uint32_t{bytes[i]} << 8) | bytes[i + 1];
    if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> build_ipv4_header(const Ipv4Fields& ip, std::uint16_t total_length) {
    std::vector<std::uint8_t> out(20, 0);
    write_ipv4_header(out, ip, ip.protocol, total_length);
    return out;
}

std::vector<std::uint8_t> build_tcp(const Ipv4Fields& ip, const TcpFields& tcp) {
    const std::size_t header = 20 + tcp.options.size();
    const std::size_t segment = header + tcp.payload_length;
    std::vector<std::uint8_t> out(20 + segment, 0);
    write_ipv4_header(out, ip, 6, out.size());
    const std::size_t t = 20;
    put16(out, t, tcp.source_port);
    put16(out, t + 2, tcp.destination_port);
    put32(out, t + 4, tcp.seq);
    put32(out, t + 8, tcp.ack);
    out[t + 12] = static_cast<std::uint8_t>(((header / 4) << 4) | (tcp.reserved & 0x0f));
    out[t + 13] = tcp.flags;
    put16(out, t + 14, tcp.window);
    put16(out, t + 18, tcp.urgent);
    std::copy(tcp.options.begin(), tcp.options.end(), out.begin() + t + 20);
    const std::uint16_t sum =
        internet_checksum(std::span(out).subspan(t), pseudo_header_sum(ip, 6, segment));
    put16(out, t + 16, sum);
    return out;
}

std::vector<std::uint8_t> build_icmp(const Ipv4Fields& ip, std::uint8_t type, std::uint8_t code,
                                     std::uint32_t rest_of_header,
                                     std::span<const std::uint8_t> quoted) {
    std::vector<std::uint8_t> out(20 + 8 + quoted.size(), 0);
    write_ipv4_header(out, ip, 1, out.size());
    out[20] = type;
    out[21] = code;
    put32(out, 24, rest_of_header);
    std::copy(quoted.begin(), quoted.end(), out.begin() + 28);
    put16(out, 22, internet_checksum(std::span(out).subspan(20)));
    return out;
}

std::vector<std::uint8_t> build_udp(const Ipv4Fields& ip, std::uint16_t source_port,
                                    std::uint16_t destination_port, std::uint32_t payload_length) {
    const std::size_t length = 8 + payload_length;
    std::vector<std::uint8_t> out(20 + length, 0);
    write_ipv4_header(out, ip, 17, out.size());
    put16(out, 20, source_port);
    put16(out, 22, destination_port);
    put16(out, 24, static_cast<std::uint32_t>(length));
    std::uint16_t sum =
        internet_checksum(std::span(out).subspan(20), pseudo_header_sum(ip, 17, length));
    put16(out, 26, sum == 0 ? 0xffff : sum);  // RFC 768: a computed 0 is sent as all ones
    return out;
}

std::optional<DecodedPacket> decode_ipv4(std::span<const std::uint8_t> d, std::string& error) {
    DecodedPacket p;
    if (d.size() < 20) {
        error = "datagram shorter than an IPv4 header (" + std::to_string(d.size()) + " bytes)";
        return std::nullopt;
    }
    p.version = d[0] >> 4;
    if (p.version != 4) {
        error = "IP version " + std::to_string(p.version) + " (only IPv4 is decoded)";
        return std::nullopt;
    }
    p.header_length = static_cast<std::uint8_t>((d[0] & 0x0f) * 4);
    p.tos = d[1];
    p.total_length = get16(d, 2);
    p.dont_fragment = (d[6] & 0x40) != 0;
    p.ttl = d[8];
    p.protocol = d[9];
    p.source = get32(d, 12);
    p.destination = get32(d, 16);
    if (p.header_length < 20 || p.total_length < p.header_length || p.total_length > d.size()) {
        error = "IPv4 header length " + std::to_string(p.header_length) + " / total length " +
                std::to_string(p.total_length) + " do not fit the " + std::to_string(d.size()) +
                " bytes received";
        return std::nullopt;
    }
    p.header_checksum_ok = internet_checksum(d.first(p.header_length)) == 0;
    auto body = d.subspan(p.header_length, p.total_length - p.header_length);
    if (p.protocol == 6) {
        if (body.size() < 20 || (body[12] >> 4) * 4u < 20 || (body[12] >> 4) * 4u > body.size()) {
            error = "truncated TCP header";
            return std::nullopt;
        }
        p.tcp.source_port = get16(body, 0);
        p.tcp.destination_port = get16(body, 2);
        p.tcp.seq = get32(body, 4);
        p.tcp.ack = get32(body, 8);
        p.tcp_data_offset = body[12] >> 4;
        p.tcp.reserved = body[12] & 0x0f;
        p.tcp.flags = body[13];
        p.tcp.window = get16(body, 14);
        p.tcp.urgent = get16(body, 18);
        const std::size_t header = p.tcp_data_offset * 4u;
        p.tcp.options.assign(body.begin() + 20, body.begin() + static_cast<long>(header));
        p.tcp.payload_length = static_cast<std::uint32_t>(body.size() - header);
        for (std::size_t i = header; i < body.size(); ++i) {
            if (body[i] != 0) {
                p.payload_all_zero = false;
                break;
            }
        }
    } else if (p.protocol == 1) {
        if (body.size() < 8) {
            error = "truncated ICMP header";
            return std::nullopt;
        }
        p.icmp_type = body[0];
        p.icmp_code = body[1];
    } else if (p.protocol == 17) {
        if (body.size() < 8) {
            error = "truncated UDP header";
            return std::nullopt;
        }
        p.udp_length = get16(body, 4);
    }
    return p;
}

std::string flags_text(std::uint8_t flags, std::uint8_t reserved) {
    std::string s;
    if (flags & 0x02) s += 'S';
    if (flags & 0x01) s += 'F';
    if (flags & 0x04) s += 'R';
    if (flags & 0x08) s += 'P';
    if (flags & 0x20) s += 'U';
    if (flags & 0x40) s += 'E';
    if (flags & 0x80) s += 'W';
    if (reserved & 0x01) s += 'A';
    if (flags & 0x10) s += '.';
    return s.empty() ? "-" : s;
}

std::string describe_options(std::span<const std::uint8_t> o, std::uint32_t sack_base) {
    std::string s;
    auto add = [&](const std::string& item) { s += (s.empty() ? "" : ",") + item; };
    std::size_t i = 0;
    while (i < o.size()) {
        const std::uint8_t kind = o[i];
        if (kind == 0) {
            add("eol");
            ++i;
            continue;
        }
        if (kind == 1) {
            add("nop");
            ++i;
            continue;
        }
        if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
            add("<malformed kind " + std::to_string(kind) + ">");
            break;
        }
        const std::size_t len = o[i + 1];
        auto v = o.subspan(i + 2, len - 2);
        if (kind == 2 && len == 4) {
            add("mss " + std::to_string(get16(v, 0)));
        } else if (kind == 3 && len == 3) {
            add("wscale " + std::to_string(v[0]));
        } else if (kind == 4 && len == 2) {
            add("sackOK");
        } else if (kind == 8 && len == 10) {
            add("TS val " + std::to_string(get32(v, 0)) + " ecr " + std::to_string(get32(v, 4)));
        } else if (kind == 5 && (len - 2) % 8 == 0) {
            std::string blocks = "sack";
            for (std::size_t b = 0; b + 8 <= v.size(); b += 8)
                blocks += " " + std::to_string(get32(v, b) - sack_base) + ":" +
                          std::to_string(get32(v, b + 4) - sack_base);
            add(blocks);
        } else {
            std::string hex;
            char buf[3];
            for (auto byte : v) {
                std::snprintf(buf, sizeof buf, "%02x", byte);
                hex += buf;
            }
            add("kind " + std::to_string(kind) + (hex.empty() ? "" : " " + hex));
        }
        i += len;
    }
    return s;
}

}  // namespace netloom::drill
