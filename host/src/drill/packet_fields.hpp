// packet_fields.hpp — small helpers shared by the inbound (packet_events.cpp) and outbound
// (packet_checks.cpp) halves of the interpreter's packet handling: TCP flag letters, option kinds,
// big-endian stores, and splitting an options area.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drill/interpreter_impl.hpp"

namespace netloom::drill::packet_fields {

inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                              kUrg = 0x20, kEce = 0x40, kCwr = 0x80;

struct Flags {
    std::uint8_t bits = 0;
    std::uint8_t reserved = 0;  // AE is bit 0
};

// Letters of reference §8; a digit 0-7 is the AccECN ACE field (AE, CWR, ECE from high to low).
inline Flags parse_flags(const std::string& text, int line) {
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

inline void put16(std::vector<std::uint8_t>& o, std::uint32_t v) {
    o.push_back(static_cast<std::uint8_t>(v >> 8));
    o.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(std::vector<std::uint8_t>& o, std::uint32_t v) {
    put16(o, v >> 16);
    put16(o, v & 0xffff);
}
inline std::uint32_t get32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

struct WireOption {
    std::uint8_t kind;
    std::vector<std::uint8_t> data;  // after kind and length
};

// Splits an options area; a malformed one yields what could be read and `ok` false.
inline std::vector<WireOption> split_options(const std::vector<std::uint8_t>& o, bool& ok) {
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

inline std::uint8_t option_kind(TcpOptionSpec::Kind k, std::uint8_t raw) {
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

inline std::uint8_t ecn_bits(Ecn ecn) {
    switch (ecn) {
        case Ecn::ect0: return 2;
        case Ecn::ect1: return 1;
        case Ecn::ce: return 3;
        default: return 0;
    }
}

}  // namespace netloom::drill::packet_fields
