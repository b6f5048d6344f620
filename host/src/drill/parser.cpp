// parser.cpp — see parser.hpp. File layout, event times, system calls and their expressions;
// packet lines are in parser_packet.cpp.
#include "drill/parser.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "drill/parser_internal.hpp"

namespace netloom::drill {
namespace detail {
namespace {

std::string_view trim(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// "1.25" (as written, maybe "-0.5" or ".5") to microseconds, rounding below 1 us half up.
// Returns -1 if it exceeds kMaxScriptTimeUsecs.
std::int64_t float_seconds_to_usecs(std::string_view text, bool& negative) {
    negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    const auto dot = text.find('.');
    auto whole = text.substr(0, dot);
    const auto fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
    if (whole.size() > 7) return -1;
    std::int64_t usecs = 0;
    for (char c : whole) usecs = usecs * 10 + (c - '0');
    usecs *= 1'000'000;
    std::int64_t part = 0;
    for (std::size_t i = 0; i < 6; ++i)
        part = part * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    if (fraction.size() > 6 && fraction[6] >= '5') ++part;
    usecs += part;
    if (negative && usecs == 0) negative = false;  // "-0.0" is zero
    return usecs > kMaxScriptTimeUsecs ? -1 : usecs;
}

bool is_number(const Token& t) {
    return t.kind == Token::Kind::integer || t.kind == Token::Kind::floating;
}

}  // namespace

Parser::Parser(std::string_view text, const std::string& path, const ParseOptions& options)
    : lexer_(text, path, options.defines), options_(options) {}

// ---- tokens -------------------------------------------------------------------------------

const Token& Parser::peek(std::size_t ahead) {
    while (ahead_.size() <= ahead) ahead_.push_back(lexer_.next());
    return ahead_[ahead];
}

Token Parser::take() {
    peek();
    Token t = std::move(ahead_.front());
    ahead_.pop_front();
    if (t.kind != Token::Kind::end) last_end_ = t.end;
    return t;
}

bool Parser::accept_punct(char c) {
    if (!peek().is(c)) return false;
    take();
    return true;
}

Token Parser::expect_punct(char c, const char* expected) {
    if (!peek().is(c)) syntax_error(peek(), expected);
    return take();
}

Token Parser::expect_word(const char* expected) {
    if (peek().kind != Token::Kind::word) syntax_error(peek(), expected);
    return take();
}

void Parser::syntax_error(const Token& at, const std::string& expected) {
    if (at.kind == Token::Kind::end) {
        std::string message = "parse error at end of file: syntax error";
        if (!expected.empty()) message += " (expected " + expected + ")";
        throw ScriptError(ScriptError::Kind::syntax, lexer_.path(), at.at, message);
    }
    syntax_error_at(at.at, describe_token(at), expected);
}

void Parser::syntax_error_at(SourceLocation at, std::string_view text,
                             const std::string& expected) {
    std::string message = "parse error at '" + std::string(text) + "': syntax error";
    if (!expected.empty()) message += " (expected " + expected + ")";
    throw ScriptError(ScriptError::Kind::syntax, lexer_.path(), at, message);
}

void Parser::semantic_error(SourceLocation at, const std::string& message) {
    throw ScriptError(ScriptError::Kind::semantic, lexer_.path(), at, "semantic error: " + message);
}

void Parser::unsupported(SourceLocation at, const std::string& message) {
    throw ScriptError(ScriptError::Kind::unsupported, lexer_.path(), at, message);
}

std::uint64_t Parser::check_unsigned(const Token& t, std::uint64_t max, const char* what) {
    if (t.overflow || t.value < 0 || static_cast<std::uint64_t>(t.value) > max)
        semantic_error(t.at, std::string(what) + " out of range: " + describe_token(t) +
                                 " (maximum " + std::to_string(max) + ")");
    return static_cast<std::uint64_t>(t.value);
}

std::uint64_t Parser::expect_unsigned(std::uint64_t max, const char* what) {
    const Token& t = peek();
    if (t.kind != Token::Kind::integer && t.kind != Token::Kind::hex) syntax_error(t, what);
    const auto v = check_unsigned(t, max, what);
    take();
    return v;
}

// ---- file layout ----------------------------------------------------------------------------

Script Parser::parse() {
    Script script;
    script.path = lexer_.path();
    while (peek().kind == Token::Kind::option) parse_option(script);
    if (peek().kind == Token::Kind::backquote) script.init_command = take().text;
    while (peek().kind != Token::Kind::end) {
        const Token& t = peek();
        if (t.kind == Token::Kind::option)
            syntax_error(t, "an event: options must come before the first event");
        if (t.kind == Token::Kind::backquote) {
            if (script.events.empty()) syntax_error(t, "a timed event after the init command");
            script.cleanup_command = take().text;
            if (peek().kind != Token::Kind::end)
                syntax_error(peek(), "end of file after the untimed cleanup command");
            break;
        }
        if (script.events.size() >= options_.max_events)
            semantic_error(
                t.at, "too many events (the limit is " + std::to_string(options_.max_events) + ")");
        script.events.push_back(parse_event());
    }
    if (script.events.empty()) syntax_error(peek(), "at least one timed event");
    script.directives = std::move(lexer_.directives());
    return script;
}

void Parser::parse_option(Script& script) {
    Token t = take();
    ScriptOption option;
    option.name = t.text;
    option.at = t.at;
    if (t.has_value) {
        option.value = t.option_value;
        // A quoted value stands for its content (`--tcp_md5_secret="a b"`).
        if (option.value.size() >= 2 && option.value.front() == '"' && option.value.back() == '"') {
            Lexer quoted(option.value, lexer_.path(), options_.defines);
            try {
                Token s = quoted.next();
                if (s.kind == Token::Kind::string && quoted.next().kind == Token::Kind::end)
                    option.value = s.text;
            } catch (const ScriptError&) {
                // not one well-formed string: keep the value as written
            }
        }
    }
    if (option.name == "define") {
        // `--define=NAME=VALUE`: later words NAME become VALUE.
        const auto eq = t.option_value.find('=');
        const auto name = t.option_value.substr(0, eq);
        if (name.empty()) semantic_error(t.at, "--define needs NAME=VALUE");
        lexer_.add_define(name, eq == std::string::npos ? "" : t.option_value.substr(eq + 1));
    }
    script.options.push_back(std::move(option));
}

// ---- events ---------------------------------------------------------------------------------

Event Parser::parse_event() {
    const Token first = peek();
    Event event;
    event.at = first.at;
    bool star = false;
    event.time.start = parse_time_spec(star);
    const Token& action = peek();
    if (action.kind == Token::Kind::ellipsis) {
        // `START...END call(...)`: a blocking call; END counts from START's anchor.
        take();
        accept_punct('+');
        bool negative = false;
        const Token end_token = peek();
        TimeSpec end;
        end.kind = event.time.start.kind;
        end.usecs = parse_seconds(negative);
        if (negative) semantic_error(end_token.at, "negative time");
        if (event.time.start.kind != TimeSpec::Kind::any && end.usecs < event.time.start.usecs)
            semantic_error(end_token.at, "blocking call ends before it starts");
        event.time.blocking_end = end;
        if (peek().kind != Token::Kind::word)
            syntax_error(peek(), "a system call after START...END");
        event.body = parse_syscall();
    } else if (action.is('<') || action.is('>')) {
        event.body = parse_packet();
    } else if (action.kind == Token::Kind::backquote) {
        event.body = CommandEvent{take().text};
    } else if (action.kind == Token::Kind::code) {
        event.body = CodeEvent{take().text};
    } else if (action.kind == Token::Kind::word) {
        event.body = parse_syscall();
    } else {
        syntax_error(action, "a packet, a system call, a `command` or a %{ code }% block");
    }
    event.source = std::string(trim(lexer_.text().substr(first.begin, last_end_ - first.begin)));
    check_event(event, first);
    return event;
}

void Parser::check_event(const Event& event, const Token& first) {
    const auto* packet = std::get_if<PacketEvent>(&event.body);
    const bool outbound = packet != nullptr && packet->direction == Direction::outbound;
    const TimeSpec& time = event.time.start;
    if (time.kind == TimeSpec::Kind::any && !outbound)
        semantic_error(first.at, "event time <star> can only be used with outbound packets");
    if (time.range_end_usecs && !outbound)
        semantic_error(first.at, "event time range can only be used with outbound packets");
    if (!have_previous_ && time.usecs != 0)
        semantic_error(first.at, "first event should be at time 0");
    if (have_previous_ && previous_time_.kind == TimeSpec::Kind::absolute &&
        time.kind == TimeSpec::Kind::absolute && time.usecs < previous_time_.usecs)
        semantic_error(first.at, "time goes backward in script from " +
                                     std::to_string(previous_time_.usecs) + " usec to " +
                                     std::to_string(time.usecs) + " usec");
    have_previous_ = true;
    previous_time_ = time;
}

std::int64_t Parser::parse_seconds(bool& negative) {
    const Token& t = peek();
    if (!is_number(t)) syntax_error(t, "a time");
    std::int64_t usecs = 0;
    if (t.kind == Token::Kind::floating) {
        usecs = float_seconds_to_usecs(t.text, negative);
    } else {
        negative = t.value < 0;
        const std::int64_t seconds = negative ? -t.value : t.value;
        usecs = t.overflow || seconds > kMaxScriptTimeUsecs / 1'000'000 ? -1 : seconds * 1'000'000;
    }
    if (usecs < 0)
        semantic_error(t.at,
                       "time out of range: " + describe_token(t) + " (maximum 1000000 seconds)");
    take();
    return usecs;
}

// `T`, `+T`, `*`, `T1~T2`, `+T1~+T2` (a blank may follow '+').
TimeSpec Parser::parse_time_spec(bool& star) {
    TimeSpec spec;
    if (accept_punct('*')) {
        star = true;
        spec.kind = TimeSpec::Kind::any;
        return spec;
    }
    const bool relative = accept_punct('+');
    spec.kind = relative ? TimeSpec::Kind::relative : TimeSpec::Kind::absolute;
    const Token start = peek();
    if (!is_number(start))
        syntax_error(start, relative ? "a time after '+'" : "an event time (0, +0.1, *, T1~T2)");
    bool negative = false;
    spec.usecs = parse_seconds(negative);
    if (negative) semantic_error(start.at, "negative time");
    if (accept_punct('~')) {
        if (relative) expect_punct('+', "'+' after '~' in a relative time range");
        const Token end = peek();
        spec.range_end_usecs = parse_seconds(negative);
        if (negative) semantic_error(end.at, "negative time");
        if (*spec.range_end_usecs < spec.usecs) semantic_error(end.at, "time range is backwards");
    }
    return spec;
}

// ---- system calls ---------------------------------------------------------------------------

SyscallEvent Parser::parse_syscall() {
    SyscallEvent call;
    call.name = take().text;
    expect_punct('(', "'(' after the system call name");
    if (!accept_punct(')')) {
        while (true) {
            call.arguments.push_back(parse_expression(0, true));
            if (accept_punct(',')) continue;
            expect_punct(')', "',' or ')' in the argument list");
            break;
        }
    }
    expect_punct('=', "'= RESULT' after the system call");
    call.result = parse_expression(0, false);
    if (peek().kind == Token::Kind::word) call.errno_name = take().text;
    if (peek_punct('(')) call.note = parse_note();
    return call;
}

// `(Operation now in progress)`: ignored text, kept as written. Parentheses may nest.
std::string Parser::parse_note() {
    const Token open = take();
    int depth = 1;
    while (true) {
        const Token& t = peek();
        if (t.kind == Token::Kind::end)
            syntax_error(t, "')' closing the note opened at line " + std::to_string(open.at.line));
        if (t.is('(')) ++depth;
        if (t.is(')') && --depth == 0) {
            const auto text = lexer_.text().substr(open.end, t.begin - open.end);
            take();
            return std::string(trim(text));
        }
        take();
    }
}

Expression Parser::parse_expression(int depth, bool allow_call) {
    Expression first = parse_primary(depth, allow_call);
    if (!peek_punct('|')) return first;
    Expression bits;
    bits.kind = Expression::Kind::bit_or;
    bits.at = first.at;
    bits.elements.push_back(std::move(first));
    while (accept_punct('|')) bits.elements.push_back(parse_primary(depth, allow_call));
    return bits;
}

Expression Parser::parse_primary(int depth, bool allow_call) {
    const Token& t = peek();
    Expression e;
    e.at = t.at;
    if (depth >= kMaxExpressionDepth)
        syntax_error(t, "an expression nested at most " + std::to_string(kMaxExpressionDepth) +
                            " levels deep");
    switch (t.kind) {
        case Token::Kind::integer:
        case Token::Kind::hex:
            if (t.overflow) semantic_error(t.at, "number out of range: " + describe_token(t));
            e.kind = Expression::Kind::integer;
            e.value = take().value;
            return e;
        case Token::Kind::ellipsis:
            take();
            e.kind = Expression::Kind::ellipsis;
            return e;
        case Token::Kind::string:
            e.kind = Expression::Kind::string;
            while (peek().kind == Token::Kind::string) e.text += take().text;  // "a" "b" is "ab"
            if (peek().kind == Token::Kind::ellipsis) {
                take();
                e.ellipsis_after = true;
            }
            return e;
        case Token::Kind::word:
            e.text = take().text;
            if (!allow_call || !peek_punct('(')) {
                e.kind = Expression::Kind::symbol;
                return e;
            }
            // inet_addr("192.0.2.1"), htons(8080)
            take();
            e.kind = Expression::Kind::call;
            if (!accept_punct(')')) {
                while (true) {
                    e.elements.push_back(parse_expression(depth + 1, true));
                    if (accept_punct(',')) continue;
                    expect_punct(')', "',' or ')' in the call's arguments");
                    break;
                }
            }
            return e;
        case Token::Kind::punct:
            if (t.is('[')) {
                take();
                e.kind = Expression::Kind::list;
                if (accept_punct(']')) return e;
                while (true) {
                    e.elements.push_back(parse_expression(depth + 1, true));
                    if (accept_punct(',')) continue;
                    expect_punct(']', "',' or ']' in the list");
                    return e;
                }
            }
            if (t.is('{')) return parse_structure(depth);
            break;
        default: break;
    }
    syntax_error(t, "an expression");
}

// {a=1, b=2}, {..., 100}, {msg_name(...)=..., msg_iov(1)=[{..., 500}], msg_flags=0}
Expression Parser::parse_structure(int depth) {
    Expression e;
    e.kind = Expression::Kind::structure;
    e.at = take().at;
    if (accept_punct('}')) return e;
    while (true) {
        StructField field;
        const bool word = peek().kind == Token::Kind::word;
        if (word && peek_punct('=', 1)) {
            field.name = take().text;
            take();
        } else if (word && peek_punct('(', 1) && peek_punct(')', 3) && peek_punct('=', 4) &&
                   (peek(2).kind == Token::Kind::integer ||
                    peek(2).kind == Token::Kind::ellipsis)) {
            field.name = take().text;
            take();
            const Token argument = take();
            if (argument.kind == Token::Kind::integer) {
                if (argument.overflow)
                    semantic_error(argument.at, "number out of range: " + describe_token(argument));
                field.name_argument = argument.value;
            }
            take();
            take();
        }
        field.value = parse_expression(depth + 1, true);
        e.fields.push_back(std::move(field));
        if (accept_punct(',')) continue;
        expect_punct('}', "',' or '}' in the structure");
        return e;
    }
}

}  // namespace detail

Script parse_script(std::string_view text, const std::string& path, const ParseOptions& options) {
    detail::Parser parser(text, path, options);
    return parser.parse();
}

Script parse_script_file(const std::string& path, const ParseOptions& options) {
    // Read in chunks up to one byte past the cap, so pipes and devices are capped too.
    auto fail = [&](const std::string& why) {
        throw ScriptError(ScriptError::Kind::syntax, path, {0, 0}, "cannot read script: " + why);
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) fail(std::strerror(errno));
    std::string text;
    char buffer[1 << 16];
    while (text.size() <= kMaxScriptBytes) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        text.append(buffer, n);
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get())) fail(std::strerror(errno));
    if (text.size() > kMaxScriptBytes)
        throw ScriptError(
            ScriptError::Kind::unsupported, path, {0, 0},
            "script is larger than " + std::to_string(kMaxScriptBytes >> 20) + " MiB");
    return parse_script(text, path, options);
}

}  // namespace netloom::drill
