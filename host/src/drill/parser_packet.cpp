// parser_packet.cpp — packet lines: `DIR [IPINFO] [SPORT>DPORT] FLAGS SEQ [ack A] [win W] [urg U]
// [<OPTIONS>] [/udp(S > D)]`, `DIR [IPINFO] icmp TYPE [CODE] [mtu N] [id N] [ECHOED]` and
// `DIR [IPINFO] udp [SPORT>DPORT] (LEN)`. Values are kept as written; the checks here are the ones
// packetdrill makes while parsing (field ranges, sequence/length consistency, option padding).
#include <string>
#include <string_view>
#include <vector>

#include "drill/parser_internal.hpp"

namespace netloom::drill::detail {
namespace {

constexpr std::uint64_t kU8 = 0xff, kU16 = 0xffff, kU20 = 0xfffff, kU32 = 0xffffffff;
constexpr std::size_t kMaxTcpOptionBytes = 40;  // RFC 9293 3.1: data offset 15 words - 20 bytes

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/// "0a1b..." (optionally "0x"-prefixed, even length) to bytes.
bool decode_hex(std::string_view text, std::vector<std::uint8_t>& out) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text.remove_prefix(2);
    if (text.empty() || text.size() % 2 != 0) return false;
    for (char c : text)
        if (!is_hex_digit(c)) return false;
    out.clear();
    for (std::size_t i = 0; i < text.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(hex_digit(text[i]) * 16 + hex_digit(text[i + 1])));
    return true;
}

/// One word of a TCP option: tokens written without blanks between them, joined ("gen-19").
struct OptionWord {
    std::string text;
    SourceLocation at;
};

/// Builds one TcpOptionSpec from its words, reporting through the parser.
class OptionReader {
public:
    OptionReader(Parser& parser, const std::vector<OptionWord>& words)
        : parser_(parser), words_(words) {}

    TcpOptionSpec read(std::size_t& bytes);

private:
    const OptionWord& word(std::size_t i) const { return words_[i]; }
    void expect_words(std::size_t min, std::size_t max) const;
    std::uint64_t number(const OptionWord& w, std::uint64_t max, const char* what) const;
    std::vector<std::uint8_t> hex(const OptionWord& w, const char* what) const;
    std::vector<std::uint8_t> optional_hex(std::size_t i, const char* what) const {
        return i < words_.size() ? hex(word(i), what) : std::vector<std::uint8_t>{};
    }

    Parser& parser_;
    const std::vector<OptionWord>& words_;
};

void OptionReader::expect_words(std::size_t min, std::size_t max) const {
    if (words_.size() > max)
        parser_.syntax_error_at(word(max).at, word(max).text, "',' or '>' after the TCP option");
    if (words_.size() < min)
        parser_.syntax_error_at(word(0).at, word(0).text, "a value after the TCP option name");
}

std::uint64_t OptionReader::number(const OptionWord& w, std::uint64_t max, const char* what) const {
    std::string_view digits = w.text;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
        base = 16;
    }
    if (digits.empty()) parser_.syntax_error_at(w.at, w.text, what);
    std::uint64_t v = 0;
    for (char c : digits) {
        if (!(base == 16 ? is_hex_digit(c) : (c >= '0' && c <= '9')))
            parser_.syntax_error_at(w.at, w.text, what);
        v = v * base + hex_digit(c);
        if (v > max)
            parser_.semantic_error(w.at, std::string(what) + " out of range: " + w.text +
                                             " (maximum " + std::to_string(max) + ")");
    }
    return v;
}

std::vector<std::uint8_t> OptionReader::hex(const OptionWord& w, const char* what) const {
    std::vector<std::uint8_t> bytes;
    if (!decode_hex(w.text, bytes)) parser_.syntax_error_at(w.at, w.text, what);
    return bytes;
}

TcpOptionSpec OptionReader::read(std::size_t& bytes) {
    using Kind = TcpOptionSpec::Kind;
    TcpOptionSpec o;
    const std::string& name = word(0).text;
    const auto prefixed = [&](std::string_view prefix) {
        return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0;
    };
    if (name == "nop" || name == "eol") {
        expect_words(1, 1);
        o.kind = name == "nop" ? Kind::nop : Kind::eol;
        bytes = 1;
    } else if (name == "mss") {
        expect_words(2, 2);
        o.kind = Kind::mss;
        o.value = static_cast<std::uint32_t>(number(word(1), kU16, "mss value"));
        bytes = 4;
    } else if (name == "wscale") {
        expect_words(2, 2);
        o.kind = Kind::window_scale;
        o.value = static_cast<std::uint32_t>(number(word(1), kU8, "window scale shift count"));
        bytes = 3;
    } else if (name == "sackOK") {
        expect_words(1, 1);
        o.kind = Kind::sack_permitted;
        bytes = 2;
    } else if (name == "sack") {
        expect_words(2, 5);  // at most 4 blocks fit in 40 bytes (RFC 2018 section 3)
        o.kind = Kind::sack;
        for (std::size_t i = 1; i < words_.size(); ++i) {
            const auto& w = word(i);
            const auto colon = w.text.find(':');
            if (colon == std::string::npos)
                parser_.syntax_error_at(w.at, w.text, "a SACK block LEFT:RIGHT");
            const OptionWord left{w.text.substr(0, colon), w.at};
            const OptionWord right{w.text.substr(colon + 1), w.at};
            o.sack_blocks.emplace_back(
                static_cast<std::uint32_t>(number(left, kU32, "TCP SACK left sequence number")),
                static_cast<std::uint32_t>(number(right, kU32, "TCP SACK right sequence number")));
        }
        bytes = 2 + 8 * o.sack_blocks.size();
    } else if (name == "TS") {
        // `TS val V ecr E`; BSD: `val ...` (not checked), `ecr E!` (not mapped).
        expect_words(5, 5);
        if (word(1).text != "val") parser_.syntax_error_at(word(1).at, word(1).text, "'val'");
        if (word(3).text != "ecr") parser_.syntax_error_at(word(3).at, word(3).text, "'ecr'");
        o.kind = Kind::timestamp;
        if (word(2).text == "...") {
            o.ts_val_any = true;
        } else {
            o.ts_val = static_cast<std::uint32_t>(number(word(2), kU32, "ts val"));
        }
        OptionWord ecr = word(4);
        if (!ecr.text.empty() && ecr.text.back() == '!') {
            ecr.text.pop_back();
            o.ts_ecr_absolute = true;
        }
        o.ts_ecr = static_cast<std::uint32_t>(number(ecr, kU32, "ts ecr"));
        bytes = 10;
    } else if (name == "FO" || name == "FOEXP" || name == "exp-FO" || name == "EXP-FO") {
        // RFC 7413 section 4.1.1: kind 34; the experimental form is kind 254 + magic 0xF989.
        expect_words(1, 2);
        o.kind = name == "FO" ? Kind::fast_open : Kind::fast_open_exp;
        o.bytes = optional_hex(1, "a hex Fast Open cookie");
        bytes = (o.kind == Kind::fast_open ? 2 : 4) + o.bytes.size();
    } else if (name == "md5") {
        // RFC 2385: kind 19, a 16-byte digest; BSD `md5 valid` signs with --tcp_md5_secret.
        expect_words(2, 2);
        o.kind = Kind::md5;
        if (word(1).text == "valid") {
            o.md5_valid = true;
        } else {
            o.bytes = hex(word(1), "a 32-digit hex MD5 digest or 'valid'");
            if (o.bytes.size() != 16)
                parser_.semantic_error(word(1).at, "MD5 digest must be 16 bytes (32 hex digits)");
        }
        bytes = 18;
    } else if (prefixed("gen-")) {
        // BSD `gen-K hexdata`: any option kind K with the given data.
        expect_words(1, 2);
        o.kind = Kind::generic;
        o.raw_kind = static_cast<std::uint8_t>(
            number(OptionWord{name.substr(4), word(0).at}, kU8, "TCP option kind"));
        o.bytes = optional_hex(1, "hex option data");
        bytes = 2 + o.bytes.size();
    } else if (prefixed("exp-") || prefixed("EXP-")) {
        // BSD `exp-XXXX hexdata`: RFC 6994 experimental option (kind 254) with ExID XXXX.
        const auto exid = std::string_view(name).substr(4);
        std::vector<std::uint8_t> exid_bytes;
        if (exid.size() != 4 || !decode_hex(exid, exid_bytes))
            parser_.unsupported(word(0).at, "TCP option '" + name + "'");
        expect_words(1, 2);
        o.kind = Kind::generic;
        o.raw_kind = 254;
        o.bytes = exid_bytes;
        const auto data = optional_hex(1, "hex option data");
        o.bytes.insert(o.bytes.end(), data.begin(), data.end());
        bytes = 2 + o.bytes.size();
    } else if (name == "ECN" || name == "AccECN0" || name == "AccECN1") {
        parser_.unsupported(word(0).at, "TCP option '" + name + "' (AccECN)");
    } else {
        // BSD raw option `KIND LEN DATA...` in hex.
        std::vector<std::uint8_t> raw;
        if (words_.size() != 1 || !decode_hex(name, raw) || raw.size() < 2)
            parser_.syntax_error_at(word(0).at, name,
                                    "a TCP option (nop, mss N, TS val V ecr E...)");
        if (raw[1] != raw.size())
            parser_.semantic_error(word(0).at, "raw TCP option length byte " +
                                                   std::to_string(raw[1]) + " but " +
                                                   std::to_string(raw.size()) + " bytes given");
        o.kind = Kind::generic;
        o.raw_kind = raw[0];
        o.bytes.assign(raw.begin() + 2, raw.end());
        bytes = raw.size();
    }
    return o;
}

// RFC 9293 3.1 flags, tcpdump letters: S F R P . U, ECN E W A (RFC 3168 / AccECN), or one digit
// 0-7 for the AccECN ACE field instead of E, W and A.
void check_flags(Parser& parser, const std::string& flags, SourceLocation at) {
    bool ecn = false, ace = false;
    for (char c : flags) {
        if (std::string_view(".FSRPEWAU01234567").find(c) == std::string_view::npos)
            parser.semantic_error(at, std::string("invalid TCP flag: '") + c + "'");
        const bool is_ecn = c == 'E' || c == 'W' || c == 'A';
        const bool is_ace = c >= '0' && c <= '7';
        if ((is_ecn && ace) || (is_ace && (ecn || ace)))
            parser.semantic_error(at, std::string("conflicting TCP flag: '") + c + "'");
        ecn = ecn || is_ecn;
        ace = ace || is_ace;
    }
}

}  // namespace

PacketEvent Parser::parse_packet() {
    const Token direction = take();
    PacketEvent packet;
    packet.direction = direction.is('<') ? Direction::inbound : Direction::outbound;
    if (peek_punct('(') || peek_punct('[')) packet.ip = parse_ip_info(packet.direction);
    const Token& t = peek();
    if (t.kind == Token::Kind::word) {
        static const char* const outer[] = {"ipv4", "ipv6", "gre", "GREv0", "mpls", "encap"};
        for (const char* w : outer)
            if (t.text == w)
                unsupported(t.at, "outer '" + t.text +
                                      "' encapsulation prefix (`ipv4 A > B:`, `ipv6`, `gre`, "
                                      "`mpls`, `encap` lines)");
        if (t.text == "sctp" || t.text == "udplite") unsupported(t.at, t.text + " packets");
        if (t.text == "icmp") {
            take();
            parse_icmp(packet);
            return packet;
        }
        if (t.text == "udp") {
            take();
            parse_udp(packet);
            return packet;
        }
    }
    parse_tcp(packet, direction);
    return packet;
}

IpInfo Parser::parse_ip_info(Direction direction) {
    IpInfo ip;
    const char close = take().is('(') ? ')' : ']';
    auto once = [&](bool already, const Token& w) {
        if (already) syntax_error(w, "each IP field at most once");
    };
    auto set_ecn = [&](const Token& w, const std::string& name) {
        static const std::pair<const char*, Ecn> names[] = {{"noecn", Ecn::noecn},
                                                            {"ect0", Ecn::ect0},
                                                            {"ect1", Ecn::ect1},
                                                            {"ce", Ecn::ce},
                                                            {"ect01", Ecn::ect01}};
        for (const auto& [text, ecn] : names) {
            if (name != text) continue;
            once(ip.ecn != Ecn::unspecified, w);
            if (ecn == Ecn::ect01 && direction != Direction::outbound)
                semantic_error(w.at, "[ect01] can only be used with outbound packets");
            ip.ecn = ecn;
            return true;
        }
        return false;
    };
    while (true) {
        const Token w = expect_word("an IP field (tos, ttl, flowlabel, ect0, ...)");
        if (set_ecn(w, w.text)) {
        } else if (w.text == "ecn") {  // BSD `ecn ect0`
            const Token value = expect_word("an ECN codepoint (noecn, ect0, ect1, ce, ect01)");
            if (!set_ecn(value, value.text)) syntax_error(value, "noecn, ect0, ect1, ce or ect01");
        } else if (w.text == "tos" || w.text == "class") {  // `class`: BSD, IPv6 traffic class
            once(ip.tos.has_value(), w);
            ip.tos = static_cast<std::uint8_t>(expect_unsigned(kU8, "tos value"));
        } else if (w.text == "ttl" || w.text == "hlim") {
            once(ip.ttl.has_value(), w);
            ip.ttl = static_cast<std::uint8_t>(expect_unsigned(kU8, "ttl value"));
        } else if (w.text == "flowlabel") {
            once(ip.flow_label.has_value(), w);
            ip.flow_label = static_cast<std::uint32_t>(expect_unsigned(kU20, "flowlabel"));
        } else if (w.text == "dscp") {
            once(ip.dscp.has_value(), w);
            if (peek().kind != Token::Kind::word) {
                ip.dscp = static_cast<std::uint8_t>(expect_unsigned(63, "dscp value"));
            } else {
                // RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF, RFC 8622 LE, RFC 5865.
                const Token name = take();
                const std::string& n = name.text;
                if (n.size() == 3 && n.compare(0, 2, "cs") == 0 && n[2] >= '0' && n[2] <= '7') {
                    ip.dscp = static_cast<std::uint8_t>((n[2] - '0') << 3);
                } else if (n.size() == 4 && n.compare(0, 2, "af") == 0 && n[2] >= '1' &&
                           n[2] <= '4' && n[3] >= '1' && n[3] <= '3') {
                    ip.dscp = static_cast<std::uint8_t>(((n[2] - '0') << 3) | ((n[3] - '0') << 1));
                } else if (n == "ef") {
                    ip.dscp = 46;
                } else if (n == "le") {
                    ip.dscp = 1;
                } else if (n == "voice" && peek_punct('-') && peek(1).is_word("admit")) {
                    take();
                    take();
                    ip.dscp = 44;
                } else {
                    syntax_error(name, "a DSCP value or name (cs0-cs7, af11-af43, ef, le)");
                }
            }
        } else {
            syntax_error(w, "an IP field (tos, ttl, flowlabel, ect0, ...)");
        }
        if (accept_punct(',')) continue;
        expect_punct(close, close == ')' ? "',' or ')'" : "',' or ']'");
        return ip;
    }
}

std::pair<std::uint16_t, std::uint16_t> Parser::parse_port_pair() {
    const auto source = static_cast<std::uint16_t>(expect_unsigned(kU16, "source port"));
    expect_punct('>', "'>' between the ports");
    const auto destination = static_cast<std::uint16_t>(expect_unsigned(kU16, "destination port"));
    return {source, destination};
}

// START:END(LEN), END = START + LEN mod 2^32 (a range may wrap: 4294967295:9(10)).
void Parser::parse_sequence(std::uint32_t& start, std::uint32_t& end, std::uint32_t& length) {
    const Token first = peek();
    if (first.kind != Token::Kind::integer) syntax_error(first, "sequence numbers START:END(LEN)");
    start = static_cast<std::uint32_t>(expect_unsigned(kU32, "TCP start sequence number"));
    expect_punct(':', "':' in START:END(LEN)");
    end = static_cast<std::uint32_t>(expect_unsigned(kU32, "TCP end sequence number"));
    expect_punct('(', "'(' in START:END(LEN)");
    length = static_cast<std::uint32_t>(expect_unsigned(kU16, "TCP payload size"));
    expect_punct(')', "')' in START:END(LEN)");
    if (static_cast<std::uint32_t>(start + length) != end)
        semantic_error(first.at, "inconsistent TCP sequence numbers and payload size");
}

void Parser::parse_tcp(PacketEvent& packet, const Token& direction) {
    TcpSegmentSpec tcp;
    if (peek().kind == Token::Kind::integer && peek_punct('>', 1)) tcp.ports = parse_port_pair();
    const Token flags = peek();
    if (flags.is('-') || flags.is('.')) {
        tcp.flags = take().text;
    } else if (flags.kind == Token::Kind::floating && flags.text[0] == '.') {
        tcp.flags = take().text;  // `.5`: ACK with AccECN ACE field 5
    } else if (flags.kind == Token::Kind::word) {
        tcp.flags = take().text;
        if (peek_punct('.')) {  // `S.` or `F .`
            tcp.flags += take().text;
        } else if (peek().kind == Token::Kind::floating && peek().text[0] == '.' &&
                   !peek().space_before) {
            tcp.flags += take().text;  // `S.5`
        }
    } else {
        syntax_error(flags, "TCP flags (S, S., ., P., F., R, - ...), 'icmp' or 'udp'");
    }
    if (tcp.flags != "-") check_flags(*this, tcp.flags, flags.at);

    if (peek().kind == Token::Kind::ellipsis) {
        take();  // BSD `...(LEN)`: sequence number not checked
        tcp.seq_any = true;
        expect_punct('(', "'(' in ...(LEN)");
        tcp.length = static_cast<std::uint32_t>(expect_unsigned(kU16, "TCP payload size"));
        expect_punct(')', "')' in ...(LEN)");
    } else {
        parse_sequence(tcp.seq_start, tcp.seq_end, tcp.length);
        tcp.seq_absolute = accept_punct('!');  // BSD: not mapped
    }
    while (peek().kind == Token::Kind::word) {
        const Token w = peek();
        std::optional<std::uint32_t>* field = nullptr;
        std::uint64_t max = kU16;
        const char* what = "";
        if (w.text == "ack") {
            field = &tcp.ack, max = kU32, what = "TCP ack sequence number";
        } else if (w.text == "win") {
            field = &tcp.window, what = "TCP window value";
        } else if (w.text == "urg") {
            field = &tcp.urgent, what = "urg_ptr value";
        } else {
            syntax_error(w, "ack, win, urg, '<' options or the next event");
        }
        if (field->has_value()) syntax_error(w, "each of ack, win and urg at most once");
        take();
        *field = static_cast<std::uint32_t>(expect_unsigned(max, what));
    }
    if (peek_punct('<')) parse_tcp_options(tcp, packet.direction);
    if (peek_punct('/')) {  // BSD TCP-in-UDP (RFC 8803 style): `/udp(9811 > 1)`
        take();
        const Token udp = expect_word("'udp' after '/'");
        if (udp.text != "udp") syntax_error(udp, "'udp' after '/'");
        expect_punct('(', "'(' after /udp");
        tcp.udp_encapsulation = parse_port_pair();
        expect_punct(')', "')' after the ports");
    }
    if (packet.direction == Direction::inbound && !tcp.window)
        semantic_error(direction.at, "window must be specified for inbound packets");
    packet.body = std::move(tcp);
}

void Parser::parse_tcp_options(TcpSegmentSpec& tcp, Direction direction) {
    const Token open = take();
    if (peek().kind == Token::Kind::ellipsis && peek_punct('>', 1)) {
        if (direction != Direction::outbound)
            semantic_error(open.at, "<...> for TCP options can only be used with outbound packets");
        take();
        take();
        tcp.any_options = true;
        return;
    }
    std::vector<TcpOptionSpec> options;
    std::vector<OptionWord> words;
    std::size_t total = 0;
    while (true) {
        const Token& t = peek();
        if (t.kind == Token::Kind::end) syntax_error(t, "'>' closing the TCP option list");
        if (t.is('>') || t.is(',')) {
            if (words.empty()) syntax_error(t, "a TCP option");
            std::size_t bytes = 0;
            options.push_back(OptionReader(*this, words).read(bytes));
            total += bytes;
            if (total > kMaxTcpOptionBytes)
                semantic_error(words.front().at, "TCP option list too long (" +
                                                     std::to_string(total) + " bytes, at most 40)");
            words.clear();
            if (take().is('>')) break;
            continue;
        }
        if (words.empty() || t.space_before) {
            words.push_back({std::string(t.raw), t.at});
        } else {
            words.back().text += t.raw;
        }
        if (words.back().text.size() > 256) syntax_error(t, "a TCP option");  // bounds memory
        take();
    }
    if (total % 4 != 0)
        semantic_error(open.at, "TCP options are not padded to a multiple of 4 bytes (" +
                                    std::to_string(total) + " bytes)");
    tcp.options = std::move(options);
}

void Parser::parse_icmp(PacketEvent& packet) {
    IcmpSpec icmp;
    icmp.type = expect_word("an ICMP type (unreachable, type_3, ...)").text;
    if (peek().kind == Token::Kind::word && !peek().is_word("mtu") && !peek().is_word("id"))
        icmp.code = take().text;
    while (peek().is_word("mtu") || peek().is_word("id")) {
        const Token w = take();
        if (w.text == "mtu") {
            if (icmp.mtu) syntax_error(w, "mtu at most once");
            icmp.mtu = static_cast<std::uint32_t>(expect_unsigned(kU32, "ICMP mtu"));
        } else {
            if (icmp.id) syntax_error(w, "id at most once");
            icmp.id = static_cast<std::uint32_t>(expect_unsigned(kU16, "ICMP id"));
        }
    }
    if (accept_punct('[')) {
        if (peek().is_word("udp") || peek().is_word("raw")) {
            icmp.echoed = take().text == "udp" ? IcmpSpec::Echoed::udp : IcmpSpec::Echoed::raw;
            expect_punct('(', "'(' LENGTH ')'");
            icmp.echoed_length = static_cast<std::uint32_t>(expect_unsigned(kU16, "payload size"));
            expect_punct(')', "')'");
        } else {
            parse_sequence(icmp.echoed_start, icmp.echoed_end, icmp.echoed_length);
            if (accept_punct('/')) {
                const Token udp = expect_word("'udp' after '/'");
                if (udp.text != "udp") syntax_error(udp, "'udp' after '/'");
                expect_punct('(', "'(' after /udp");
                icmp.echoed_udp_encapsulation = parse_port_pair();
                expect_punct(')', "')' after the ports");
            }
        }
        expect_punct(']', "']' closing the echoed packet");
    }
    packet.body = std::move(icmp);
}

void Parser::parse_udp(PacketEvent& packet) {
    UdpSpec udp;
    if (peek().kind == Token::Kind::integer && peek_punct('>', 1)) udp.ports = parse_port_pair();
    expect_punct('(', "'(' LENGTH ')' after udp");
    udp.length = static_cast<std::uint32_t>(expect_unsigned(kU16, "UDP payload size"));
    expect_punct(')', "')' after the UDP length");
    packet.body = std::move(udp);
}

}  // namespace netloom::drill::detail
