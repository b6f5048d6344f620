// The packetdrill script parser (host/src/drill/parser.hpp) on bad input: malformed scripts
// rejected with the right kind at the right line:column, unsupported constructs named, and hostile
// input (seeded mutations, 10^6 lines, deep nesting, oversized files) always ending in a Script or
// a ScriptError, never a crash or a hang.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "drill/parser.hpp"
#include "parser_samples.hpp"

using namespace netloom::drill;
using namespace netloom::drill::test;

TEST_CASE("parser: outer encapsulation prefixes are unsupported, named") {
    for (const char* line :
         {"0 < ipv4 192.0.2.1 > 192.168.0.1: S 0:0(0) win 1\n",
          "0 < ipv6 2001:db8::1 > fd3d:fa7b:d17d::1: S 0:0(0) win 1\n", "0 < gre: S 0:0(0) win 1\n",
          "0 > mpls (label 1, tc 0, ttl 9): S 0:0(0)\n",
          "0 < (tos 0x4) ipv4 1.2.3.4 > 5.6.7.8: . 1:1(0) win 1\n"}) {
        const ScriptError e = error_of(line);
        CHECK(e.kind() == ScriptError::Kind::unsupported);
        CHECK(e.message().find("encapsulation prefix") != std::string::npos);
        CHECK(e.at().line == 1);
    }
    const ScriptError e = error_of("0 < ipv4 192.0.2.1 > 192.168.0.1: S 0:0(0) win 1\n");
    CHECK(e.at().column == 5);
    CHECK(e.message().rfind("outer 'ipv4'", 0) == 0);
    CHECK(error_of("0 < sctp: INIT[]\n").kind() == ScriptError::Kind::unsupported);
    CHECK(error_of("0 > S 0:0(0) <ECN e0b 1>\n").kind() == ScriptError::Kind::unsupported);
}

namespace {
struct BadCase {
    const char* text;
    ScriptError::Kind kind;
    int line, column;
    const char* message;  // a part of the message
};
}  // namespace

TEST_CASE("parser: malformed scripts give the right kind at the right line and column") {
    using K = ScriptError::Kind;
    const BadCase cases[] = {
        // syntax
        {"", K::syntax, 1, 1, "parse error at end of file: syntax error"},
        {"--x=1\n", K::syntax, 2, 1, "at least one timed event"},
        {"0 close(3) = 0\n--late=1\n", K::syntax, 2, 1, "parse error at '--late=1'"},
        {"0 close(3) = 0\n`a`\n+0 b() = 0\n", K::syntax, 3, 1, "end of file after the untimed"},
        {"`a`\n`b`\n0 c() = 0\n", K::syntax, 2, 1, "a timed event after the init command"},
        {"0 close(3 = 0\n", K::syntax, 1, 11, "parse error at '='"},
        {"0 close(3)\n+1 x() = 0\n", K::syntax, 2, 1, "parse error at '+'"},
        {"0 \"abc\n", K::syntax, 1, 3, "unterminated string"},
        {"0 `abc\n\n", K::syntax, 1, 3, "unterminated backquoted command"},
        {"0 %{ x = 1\n", K::syntax, 1, 3, "unterminated code block"},
        {"0 a() = 0\n  /* never closed\n", K::syntax, 2, 3, "unterminated comment"},
        {"0 a(\"\\q\") = 0\n", K::syntax, 1, 6, "unknown escape sequence '\\q'"},
        {"0 a() = 0\n#ifdef X\n+0 b() = 0\n", K::syntax, 2, 1, "unterminated #ifdef"},
        {"0 a() = 0\n#endif\n", K::syntax, 2, 1, "#endif without #ifdef"},
        {"#ifdef A\n#ifdef B\n#endif\n0 a() = 0\n", K::syntax, 2, 1, "nested #ifdef"},
        {"0 a() = 0\n#else\n", K::syntax, 2, 1, "#else is not supported"},
        {"0 > Q 0:0(0)\n", K::semantic, 1, 5, "invalid TCP flag: 'Q'"},
        {"0 > E5 0:0(0)\n", K::semantic, 1, 5, "conflicting TCP flag: '5'"},
        {"0 > S 0:0\n", K::syntax, 2, 1, "parse error at end of file"},
        {"0 > S 0:0(0) <mss>\n", K::syntax, 1, 15, "a value after the TCP option name"},
        {"0 > S 0:0(0) <mss 1460 nop>\n", K::syntax, 1, 24, "parse error at 'nop'"},
        {"0 > S 0:0(0) <bogus 1>\n", K::syntax, 1, 15, "parse error at 'bogus'"},
        {"0 > S 0:0(0) <mss 1460\n", K::syntax, 2, 1, "'>' closing the TCP option list"},
        {"0 > S 0:0(0) <>\n", K::syntax, 1, 15, "a TCP option"},
        {"0 > S 0:0(0) ack 1 ack 2\n", K::syntax, 1, 20, "at most once"},
        {"0 < (tos 1, tos 2) S 0:0(0) win 1\n", K::syntax, 1, 13, "at most once"},
        {"0 a(\x01) = 0\n", K::syntax, 1, 5, "parse error at '\\x01'"},
        {"0 > . 1:1(0) <sack 1:2 3>\n", K::syntax, 1, 24, "a SACK block"},
        {"0 > . 1:1(0) <md5 xyz>\n", K::syntax, 1, 19, "hex MD5"},
        {"0.5. a() = 0\n", K::syntax, 1, 4, "parse error at '.'"},
        // semantic
        {"0 < S 0:0(0)\n", K::semantic, 1, 3, "window must be specified for inbound packets"},
        {"0 > S 0:0(0) <mss 1460,nop>\n", K::semantic, 1, 14, "not padded to a multiple of 4"},
        {"0 > S 0:0(0) <sackOK>\n", K::semantic, 1, 14, "(2 bytes)"},
        {"* a() = 0\n", K::semantic, 1, 1, "<star> can only be used with outbound packets"},
        {"0~1 < . 1:1(0) win 1\n", K::semantic, 1, 1, "range can only be used with outbound"},
        {"0 a() = 0\n+0...1 * b() = 0\n", K::syntax, 2, 8, "a system call after START...END"},
        {"1 a() = 0\n", K::semantic, 1, 1, "first event should be at time 0"},
        {"+0.5 a() = 0\n", K::semantic, 1, 1, "first event should be at time 0"},
        {"0 a() = 0\n2 b() = 0\n1.5 c() = 0\n", K::semantic, 3, 1,
         "time goes backward in script from 2000000 usec to 1500000 usec"},
        {"0 a() = 0\n+-1 b() = 0\n", K::semantic, 2, 2, "negative time"},
        {"-0.5 a() = 0\n", K::semantic, 1, 1, "negative time"},
        {"0 a() = 0\n+0.2~+0.1 > . 1:1(0)\n", K::semantic, 2, 7, "time range is backwards"},
        {"0 a() = 0\n+2...1 accept(3, ..., ...) = 4\n", K::semantic, 2, 6, "ends before it starts"},
        {"0 < . 1:2(0) win 1\n", K::semantic, 1, 7, "inconsistent TCP sequence numbers"},
        {"0 < . 4294967295:8(10) win 1\n", K::semantic, 1, 7, "inconsistent TCP sequence numbers"},
        {"0 < S 0:0(0) win 1 <...>\n", K::semantic, 1, 20, "<...> for TCP options can only"},
        {"0 < [ect01] S 0:0(0) win 1\n", K::semantic, 1, 6, "[ect01] can only be used"},
        {"1000001 a() = 0\n", K::semantic, 1, 1, "time out of range"},
        {"0 a() = 0\n+99999999999999999999 b() = 0\n", K::semantic, 2, 2, "time out of range"},
        {"0 a() = 0\n+1000000.0000005 b() = 0\n", K::semantic, 2, 2, "time out of range"},
        {"0 < 70000>80 S 0:0(0) win 1\n", K::semantic, 1, 5, "source port out of range"},
        {"0 > S 0:0(0) <mss 65536>\n", K::semantic, 1, 19, "mss value out of range"},
        {"0 > S 0:0(0) <wscale 256,nop>\n", K::semantic, 1, 22, "window scale shift count out of"},
        {"0 < . 4294967296:0(0) win 1\n", K::semantic, 1, 7, "TCP start sequence number out of"},
        {"0 < . 1:1(0) ack 4294967296 win 1\n", K::semantic, 1, 18, "TCP ack sequence number out"},
        {"0 < . 1:1(0) win 65536\n", K::semantic, 1, 18, "TCP window value out of range"},
        {"0 < . 1:65537(65536) win 1\n", K::semantic, 1, 15, "TCP payload size out of range"},
        {"0 > . 1:1(0) <TS val 4294967296 ecr 0,nop,nop>\n", K::semantic, 1, 22, "ts val out of"},
        {"0 > (flowlabel 0x100000) . 1:1(0)\n", K::semantic, 1, 16, "flowlabel out of range"},
        {"0 a(99999999999999999999) = 0\n", K::semantic, 1, 5, "number out of range"},
        {"0 > S 0:0(0) <md5 0001,nop,nop>\n", K::semantic, 1, 19, "MD5 digest must be 16 bytes"},
        {"0 > S 0:0(0) <sack 1:2 1:2 1:2 1:2,sack 1:2>\n", K::semantic, 1, 36,
         "TCP option list too long"},
        // unsupported
        {"0 > S 0:0(0) <exp-tarr>\n", K::unsupported, 1, 15, "TCP option 'exp-tarr'"},
    };
    for (const BadCase& c : cases) {
        INFO(c.text);
        const ScriptError e = error_of(c.text);
        CHECK(e.kind() == c.kind);
        CHECK(e.at().line == c.line);
        CHECK(e.at().column == c.column);
        CHECK_THAT(e.message(), Catch::Contains(c.message));
        CHECK(std::string(e.what()).rfind(
                  "t.pkt:" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": ", 0) ==
              0);
    }
    // A NUL byte mid-script (the table's C strings stop at the first NUL).
    const ScriptError nul = error_of(std::string_view("0 a() = 0\n+0 b(\0) = 0\n", 22));
    CHECK(nul.at().line == 2);
    CHECK(nul.at().column == 6);
    CHECK_THAT(nul.message(), Catch::Contains("'\\x00'"));
}

TEST_CASE("parser: too many events and a 10^6-line script") {
    std::string big = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
    big.reserve(40'000'000);
    for (int line = 2; line <= 1'000'000; ++line) {
        if (line % 10 == 0) {
            big += "+0.001 < . 1:1(0) ack 1 win 100\n";
        } else if (line % 10 == 5) {
            big += "// a comment line\n";
        } else {
            big += "\n";
        }
    }
    const Script s = parse(big);
    CHECK(s.events.size() == 100'001);
    CHECK(s.events.back().at.line == 1'000'000);

    std::string events = "0 a() = 0\n";
    for (int i = 0; i < 1'000'000; ++i) events += "+0 a() = 0\n";
    ParseOptions small;
    small.max_events = 1000;
    const ScriptError e = error_of(events, small);
    CHECK(e.kind() == ScriptError::Kind::semantic);
    CHECK(e.at().line == 1001);
    CHECK_THAT(e.message(), Catch::Contains("too many events (the limit is 1000)"));
}

TEST_CASE("parser: deep nesting is refused, not recursed into") {
    const std::string lists = "0 f(" + std::string(100'000, '[') + ") = 0\n";
    ScriptError e = error_of(lists);
    CHECK(e.kind() == ScriptError::Kind::syntax);
    CHECK(e.at().column == 5 + kMaxExpressionDepth);
    CHECK_THAT(e.message(), Catch::Contains("nested at most 64 levels"));
    std::string ok = "0 f(";
    for (int i = 0; i < kMaxExpressionDepth; ++i) ok += i % 2 ? "[" : "{";
    for (int i = kMaxExpressionDepth - 1; i >= 0; --i) ok += i % 2 ? "]" : "}";
    CHECK(parse(ok + ") = 0\n").events.size() == 1);
    e = error_of("0 f(" + std::string(100'000, '{') + ") = 0\n");
    CHECK(e.kind() == ScriptError::Kind::syntax);
    e = error_of("0 f(" + std::string(1000, 'g') + std::string(1000, '(') + ") = 0\n");
    CHECK(e.kind() == ScriptError::Kind::syntax);
    e = error_of("0 f() = 0 " + std::string(100'000, '(') + "\n");
    CHECK_THAT(e.message(), Catch::Contains("')' closing the note"));
}

TEST_CASE("parser: seeded mutations of the samples give a Script or a ScriptError") {
    std::mt19937 rng(20240612);
    const std::string alphabet = "<>()[]{},:=|+*~!/-. \n\t0123456789`\"%#xSF.abc\\";
    int scripts = 0, errors = 0;
    for (int round = 0; round < 4000; ++round) {
        std::string text = kSamples[round % 4];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !text.empty(); ++k) {
            const std::size_t at = rng() % text.size();
            switch (rng() % 5) {
                case 0: text.erase(at, 1 + rng() % 8); break;
                case 1: text.insert(at, text.substr(at, 1 + rng() % 16)); break;
                case 2: text[at] = static_cast<char>(rng() % 256); break;
                case 3: text[at] = alphabet[rng() % alphabet.size()]; break;
                default: text.resize(at); break;  // truncated
            }
        }
        try {
            parse_script(text, "m.pkt");
            ++scripts;
        } catch (const ScriptError& e) {
            ++errors;
            CHECK(e.at().line >= 1);
            CHECK(e.at().column >= 1);
        }
    }
    CHECK(scripts > 100);  // the loop really exercises both outcomes
    CHECK(errors > 1000);
}

TEST_CASE("parser: parse_script_file reads a file and refuses a missing one") {
    char path[] = "/tmp/netloom-parser-test-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream out(path, std::ios::binary);
        out << kSampleActive;
    }
    const Script s = parse_script_file(path);
    CHECK(s.path == path);
    CHECK(s.events.size() == 12);
    // One byte over the cap (a sparse file: no disk space used).
    REQUIRE(truncate(path, static_cast<off_t>(kMaxScriptBytes) + 1) == 0);
    try {
        parse_script_file(path);
        FAIL("an oversized file parsed");
    } catch (const ScriptError& e) {
        CHECK(e.kind() == ScriptError::Kind::unsupported);
        CHECK_THAT(e.message(), Catch::Contains("larger than 64 MiB"));
    }
    std::remove(path);
    for (const char* bad : {static_cast<const char*>(path), "/tmp"}) {
        try {
            parse_script_file(bad);
            FAIL("parsed " << bad);
        } catch (const ScriptError& e) {
            CHECK(e.kind() == ScriptError::Kind::syntax);
            CHECK_THAT(e.message(), Catch::Contains("cannot read script"));
        }
    }
}
