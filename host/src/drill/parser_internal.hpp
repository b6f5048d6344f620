// parser_internal.hpp — the recursive-descent parser behind parse_script (parser.hpp), shared by
// parser.cpp (file layout, times, system calls, expressions) and parser_packet.cpp (packet lines).
// Not for use outside those two files.
//
// Contract: the parser pulls tokens from the Lexer with a small look-ahead queue, so the whole
// token stream never sits in memory; every loop consumes a token per round, so it always ends.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "drill/lexer.hpp"
#include "drill/script.hpp"

namespace netloom::drill::detail {

class Parser {
public:
    Parser(std::string_view text, const std::string& path, const ParseOptions& options);
    Script parse();

    // ---- tokens (parser.cpp) ----
    const Token& peek(std::size_t ahead = 0);
    Token take();
    bool peek_punct(char c, std::size_t ahead = 0) { return peek(ahead).is(c); }
    bool accept_punct(char c);
    Token expect_punct(char c, const char* expected);
    Token expect_word(const char* expected);
    [[noreturn]] void syntax_error(const Token& at, const std::string& expected = "");
    /// Same message for text that is not one token (a TCP option written as `gen-19`).
    [[noreturn]] void syntax_error_at(SourceLocation at, std::string_view text,
                                      const std::string& expected);
    [[noreturn]] void semantic_error(SourceLocation at, const std::string& message);
    [[noreturn]] void unsupported(SourceLocation at, const std::string& message);
    /// An integer or hex token in [0, max]; a bigger or negative one is a semantic error
    /// "WHAT out of range".
    std::uint64_t expect_unsigned(std::uint64_t max, const char* what);
    std::uint64_t check_unsigned(const Token& token, std::uint64_t max, const char* what);

    // ---- packets (parser_packet.cpp) ----
    PacketEvent parse_packet();

private:
    void parse_option(Script& script);
    Event parse_event();
    TimeSpec parse_time_spec(bool& star);
    std::int64_t parse_seconds(bool& negative_seen);
    SyscallEvent parse_syscall();
    Expression parse_expression(int depth, bool allow_call);
    Expression parse_primary(int depth, bool allow_call);
    Expression parse_structure(int depth);
    std::string parse_note();
    void check_event(const Event& event, const Token& first);

    IpInfo parse_ip_info(Direction direction);
    void parse_tcp(PacketEvent& packet, const Token& direction);
    void parse_tcp_options(TcpSegmentSpec& tcp, Direction direction);
    void parse_icmp(PacketEvent& packet);
    void parse_udp(PacketEvent& packet);
    std::pair<std::uint16_t, std::uint16_t> parse_port_pair();
    void parse_sequence(std::uint32_t& start, std::uint32_t& end, std::uint32_t& length);

    Lexer lexer_;
    const ParseOptions& options_;
    std::deque<Token> ahead_;
    std::size_t last_end_ = 0;  // end offset of the last token taken
    bool have_previous_ = false;
    TimeSpec previous_time_;
};

}  // namespace netloom::drill::detail
