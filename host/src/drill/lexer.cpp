// lexer.cpp — see lexer.hpp. A hand-written scanner: one pass, no backtracking beyond the token
// being read, so a script of any length is read in linear time.
#include "drill/lexer.hpp"

#include <limits>

namespace netloom::drill {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_word_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '_';
}
bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}
bool is_space(char c) {
    return is_blank(c) || c == '\n';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

// Decimal digits to int64; overflow reported rather than wrapped.
void parse_decimal(std::string_view digits, bool negative, Token& token) {
    std::uint64_t v = 0;
    const std::uint64_t limit = std::numeric_limits<std::int64_t>::max();
    for (char c : digits) {
        if (v > (limit - (c - '0')) / 10) {
            token.overflow = true;
            return;
        }
        v = v * 10 + (c - '0');
    }
    token.value = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
}

// An IPv6 literal (RFC 4291 section 2.2 text forms): hex groups of 1-4 digits separated by ':',
// at most one "::", optionally ending in a dotted IPv4 address.
bool valid_ipv6(std::string_view s) {
    const auto gap = s.find("::");
    if (gap != std::string_view::npos && s.find("::", gap + 1) != std::string_view::npos)
        return false;
    int groups = 0;
    auto count_side = [&](std::string_view side, bool last_side) {
        if (side.empty()) return true;
        std::size_t start = 0;
        while (true) {
            const auto colon = side.find(':', start);
            const auto group = side.substr(
                start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
            const bool final_group = colon == std::string_view::npos;
            if (group.find('.') != std::string_view::npos) {
                if (!final_group || !last_side) return false;
                int dots = 0, run = 0;
                for (char c : group) {
                    if (c == '.') {
                        if (run == 0) return false;
                        ++dots, run = 0;
                    } else if (!is_digit(c) || ++run > 3) {
                        return false;
                    }
                }
                if (dots != 3 || run == 0) return false;
                groups += 2;
            } else {
                if (group.empty() || group.size() > 4) return false;
                for (char c : group)
                    if (!is_hex(c)) return false;
                ++groups;
            }
            if (final_group) return true;
            start = colon + 1;
        }
    };
    if (gap == std::string_view::npos) return count_side(s, true) && groups == 8;
    return count_side(s.substr(0, gap), false) && count_side(s.substr(gap + 2), true) &&
           groups <= 7;
}

const std::map<std::string, std::string> kNoDefines;

}  // namespace

std::string describe_token(const Token& token) {
    std::string out;
    for (char c : token.raw) {
        if (c == '\n' || out.size() >= 40) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            static const char digits[] = "0123456789abcdef";
            out += "\\x";
            out += digits[u >> 4];
            out += digits[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

Lexer::Lexer(std::string_view text, std::string path,
             const std::map<std::string, std::string>& defines)
    : text_(text), path_(std::move(path)), defines_(defines) {}

void Lexer::fail(SourceLocation at, const std::string& message) const {
    throw ScriptError(ScriptError::Kind::syntax, path_, at, message);
}

SourceLocation Lexer::location(std::size_t offset) const {
    return {line_, static_cast<int>(offset - line_begin_) + 1};
}

void Lexer::advance(std::size_t count) {
    for (std::size_t i = 0; i < count && pos_ < text_.size(); ++i, ++pos_) {
        if (text_[pos_] == '\n') {
            ++line_;
            line_begin_ = pos_ + 1;
            line_has_token_ = false;
        }
    }
}

void Lexer::add_define(const std::string& name, const std::string& value) {
    script_define_values_.push_back(value);
    script_defines_[name] = &script_define_values_.back();
}

const std::string* Lexer::lookup_define(const std::string& name) const {
    if (auto it = defines_.find(name); it != defines_.end()) return &it->second;
    if (auto it = script_defines_.find(name); it != script_defines_.end()) return it->second;
    return nullptr;
}

bool Lexer::is_defined(const std::string& name) const {
    return lookup_define(name) != nullptr;
}

void Lexer::line_comment() {
    const auto at = location(pos_);
    const auto start = pos_;
    while (!at_end() && peek() != '\n') ++pos_;  // no newline inside: line bookkeeping unchanged
    const auto body = text_.substr(start + 2, pos_ - start - 2);
    if (body.empty() || body.front() != '!') return;
    // `//! NAME: TEXT` — a netloom directive (script.hpp).
    const auto content = body.substr(1);
    const auto colon = content.find(':');
    ScriptDirective d;
    d.name = std::string(trim(content.substr(0, colon)));
    if (colon != std::string_view::npos) d.argument = std::string(trim(content.substr(colon + 1)));
    d.at = at;
    if (!d.name.empty()) directives_.push_back(std::move(d));
}

void Lexer::block_comment() {
    const auto at = location(pos_);
    const auto close = text_.find("*/", pos_ + 2);
    if (close == std::string_view::npos) fail(at, "unterminated comment: '/*' without '*/'");
    advance(close + 2 - pos_);
}

bool Lexer::skip_space_and_comments() {
    bool skipped = false;
    while (!at_end()) {
        const char c = peek();
        if (is_space(c)) {
            advance();
        } else if (c == '/' && peek(1) == '/') {
            line_comment();
        } else if (c == '/' && peek(1) == '*') {
            block_comment();
        } else if (c == '#' && !line_has_token_) {
            preprocessor_line();
        } else {
            break;
        }
        skipped = true;
    }
    return skipped;
}

// BSD fork: `#ifdef NAME` ... `#endif` at the start of a line, no nesting, no #else. Any other
// `#` is an ordinary character (and a syntax error for the parser).
void Lexer::preprocessor_line() {
    const auto at = location(pos_);
    std::size_t p = pos_ + 1;
    while (p < text_.size() && is_word_char(text_[p])) ++p;
    const auto keyword = text_.substr(pos_ + 1, p - pos_ - 1);
    auto finish_line = [&](const char* what) {
        while (!at_end() && is_blank(peek())) advance();
        if (peek() == '/' && peek(1) == '/') line_comment();
        if (!at_end() && peek() != '\n')
            fail(location(pos_), std::string("unexpected text after ") + what);
    };
    if (keyword == "ifdef") {
        advance(p - pos_);
        while (!at_end() && is_blank(peek())) advance();
        const auto name_start = pos_;
        while (!at_end() && is_word_char(peek())) ++pos_;
        if (pos_ == name_start) fail(location(pos_), "#ifdef needs a name");
        const std::string name(text_.substr(name_start, pos_ - name_start));
        finish_line("#ifdef NAME");
        if (in_ifdef_) fail(at, "nested #ifdef is not supported");
        if (is_defined(name)) {
            in_ifdef_ = true;
            ifdef_at_ = at;
        } else {
            skip_to_endif(at);
        }
    } else if (keyword == "endif") {
        if (!in_ifdef_) fail(at, "#endif without #ifdef");
        in_ifdef_ = false;
        advance(p - pos_);
        finish_line("#endif");
    } else if (keyword == "else" || keyword == "elif" || keyword == "if" || keyword == "ifndef") {
        fail(at, "#" + std::string(keyword) + " is not supported (only #ifdef NAME ... #endif)");
    } else {
        line_has_token_ = true;  // an ordinary '#': lex_one makes it a punct token
    }
}

void Lexer::skip_to_endif(SourceLocation ifdef_at) {
    // Line by line: only `#ifdef`/`#endif` at the start of a line mean anything in here.
    while (!at_end()) {
        while (!at_end() && peek() != '\n') advance();
        advance();  // the newline
        while (!at_end() && is_blank(peek())) advance();
        const auto rest = text_.substr(pos_);
        auto starts_word = [&](std::string_view w) {
            return rest.substr(0, w.size()) == w &&
                   (rest.size() == w.size() || !is_word_char(rest[w.size()]));
        };
        if (starts_word("#ifdef")) fail(location(pos_), "nested #ifdef is not supported");
        if (starts_word("#endif")) {
            advance(6);
            while (!at_end() && is_blank(peek())) advance();
            if (peek() == '/' && peek(1) == '/') line_comment();
            if (!at_end() && peek() != '\n') fail(location(pos_), "unexpected text after #endif");
            return;
        }
    }
    fail(ifdef_at, "unterminated #ifdef: no #endif");
}

Token Lexer::next() {
    if (!pending_.empty()) {
        Token t = std::move(pending_.front());
        pending_.pop_front();
        return t;
    }
    const bool space = skip_space_and_comments();
    if (at_end()) {
        if (in_ifdef_) fail(ifdef_at_, "unterminated #ifdef: no #endif");
        Token t;
        t.at = location(pos_);
        t.begin = t.end = pos_;
        t.space_before = space;
        return t;
    }
    Token t = lex_one();
    t.space_before = space || t.begin == 0;
    line_has_token_ = true;
    if (t.kind == Token::Kind::word) expand(t);
    return t;
}

void Lexer::expand(Token& token) {
    const std::string* value = lookup_define(token.text);
    if (value == nullptr || value->empty()) return;  // `-D NAME` alone only sets NAME for #ifdef
    std::deque<Token> tokens;
    try {
        Lexer sub(*value, path_, kNoDefines);
        for (Token t = sub.next(); t.kind != Token::Kind::end; t = sub.next()) {
            t.at = token.at;
            t.begin = token.begin;
            t.end = token.end;
            tokens.push_back(std::move(t));
        }
    } catch (const ScriptError& e) {
        fail(token.at, "bad value of define " + token.text + ": " + e.message());
    }
    if (tokens.empty()) fail(token.at, "define " + token.text + " has no tokens");
    tokens.front().space_before = token.space_before;
    token = std::move(tokens.front());
    tokens.pop_front();
    pending_ = std::move(tokens);
}

Token Lexer::lex_one() {
    Token t;
    t.at = location(pos_);
    t.begin = pos_;
    const char c = peek();
    if (c == '"') {
        t = lex_string(std::move(t));
    } else if (c == '`') {
        t = lex_backquote(std::move(t));
    } else if (c == '%' && peek(1) == '{') {
        t = lex_code(std::move(t));
    } else if (c == '.' && peek(1) == '.' && peek(2) == '.') {
        t.kind = Token::Kind::ellipsis;
        advance(3);
    } else if (c == '-' && peek(1) == '-' && is_alpha(peek(2))) {
        t = lex_option(std::move(t));
    } else if (is_word_char(c) || (c == '.' && is_digit(peek(1))) ||
               (c == '-' && (is_digit(peek(1)) || (peek(1) == '.' && is_digit(peek(2)))))) {
        t = lex_number_or_word(std::move(t));
    } else if (c == ':' && peek(1) == ':' && try_ipv6(t)) {
        // "::1" and the like
    } else {
        t.kind = Token::Kind::punct;
        t.text = std::string(1, c);
        advance();
    }
    t.end = pos_;
    t.raw = text_.substr(t.begin, t.end - t.begin);
    return t;
}

Token Lexer::lex_string(Token t) {
    t.kind = Token::Kind::string;
    advance();  // the opening quote
    while (true) {
        if (at_end() || peek() == '\n') fail(t.at, "unterminated string");
        const char c = peek();
        if (c == '"') {
            advance();
            return t;
        }
        if (c != '\\') {
            t.text += c;
            advance();
            continue;
        }
        const auto escape_at = location(pos_);
        const char e = peek(1);
        advance(2);
        switch (e) {
            case 'n': t.text += '\n'; break;
            case 't': t.text += '\t'; break;
            case 'r': t.text += '\r'; break;
            case 'a': t.text += '\a'; break;
            case 'b': t.text += '\b'; break;
            case 'f': t.text += '\f'; break;
            case 'v': t.text += '\v'; break;
            case '\\': t.text += '\\'; break;
            case '"': t.text += '"'; break;
            case '\'': t.text += '\''; break;
            case '?': t.text += '?'; break;
            case 'x': {
                if (!is_hex(peek())) fail(escape_at, "\\x without hex digits in string");
                int v = 0;
                for (int i = 0; i < 2 && is_hex(peek()); ++i, advance())
                    v = v * 16 + hex_value(peek());
                t.text += static_cast<char>(v);
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0';
                    for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i, advance())
                        v = v * 8 + (peek() - '0');
                    if (v > 255) fail(escape_at, "octal escape out of range in string");
                    t.text += static_cast<char>(v);
                    break;
                }
                if (e == '\n' || e == '\0') fail(t.at, "unterminated string");
                fail(escape_at, std::string("unknown escape sequence '\\") + e + "' in string");
        }
    }
}

Token Lexer::lex_backquote(Token t) {
    t.kind = Token::Kind::backquote;
    const auto start = pos_ + 1;
    std::size_t p = start;
    while (p < text_.size() && text_[p] != '`') p += text_[p] == '\\' ? 2 : 1;
    if (p >= text_.size()) fail(t.at, "unterminated backquoted command");
    t.text = std::string(text_.substr(start, p - start));
    advance(p + 1 - pos_);
    return t;
}

Token Lexer::lex_code(Token t) {
    t.kind = Token::Kind::code;
    const auto close = text_.find("}%", pos_ + 2);
    if (close == std::string_view::npos) fail(t.at, "unterminated code block: '%{' without '}%'");
    auto body = text_.substr(pos_ + 2, close - pos_ - 2);
    while (!body.empty() && (body.front() == ' ' || body.front() == '\t')) body.remove_prefix(1);
    while (!body.empty() && (body.back() == ' ' || body.back() == '\t')) body.remove_suffix(1);
    t.text = std::string(body);
    advance(close + 2 - pos_);
    return t;
}

Token Lexer::lex_option(Token t) {
    t.kind = Token::Kind::option;
    advance(2);
    const auto name_start = pos_;
    while (!at_end() && (is_word_char(peek()) || peek() == '-')) advance();
    t.text = std::string(text_.substr(name_start, pos_ - name_start));
    if (peek() != '=') return t;
    advance();
    t.has_value = true;
    const auto value_start = pos_;
    // The value runs to the next blank; quotes (and backquotes) may hold blanks.
    while (!at_end() && !is_space(peek())) {
        const char q = peek();
        if (q == '"' || q == '`') {
            const auto quote_at = location(pos_);
            std::size_t p = pos_ + 1;
            while (p < text_.size() && text_[p] != q && !(q == '"' && text_[p] == '\n'))
                p += text_[p] == '\\' ? 2 : 1;
            if (p >= text_.size() || text_[p] != q) fail(quote_at, "unterminated quote in option");
            advance(p + 1 - pos_);
        } else {
            advance();
        }
    }
    t.option_value = std::string(text_.substr(value_start, pos_ - value_start));
    return t;
}

bool Lexer::try_ipv4(Token& t) {
    std::size_t p = pos_;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p >= text_.size() || text_[p] != '.') return false;
            ++p;
        }
        const auto digits = p;
        while (p < text_.size() && is_digit(text_[p])) ++p;
        if (p == digits || p - digits > 3) return false;
    }
    if (p < text_.size() && (is_word_char(text_[p]) || text_[p] == '.')) return false;
    t.kind = Token::Kind::ipv4;
    t.text = std::string(text_.substr(pos_, p - pos_));
    advance(p - pos_);
    return true;
}

bool Lexer::try_ipv6(Token& t) {
    std::size_t p = pos_;
    int colons = 0;
    while (p < text_.size() && (is_hex(text_[p]) || text_[p] == ':' || text_[p] == '.')) {
        colons += text_[p] == ':';
        ++p;
    }
    if (colons < 2 || (p < text_.size() && is_word_char(text_[p]))) return false;
    const auto literal = text_.substr(pos_, p - pos_);
    if (!valid_ipv6(literal)) return false;
    t.kind = Token::Kind::ipv6;
    t.text = std::string(literal);
    advance(p - pos_);
    return true;
}

Token Lexer::lex_number_or_word(Token t) {
    const char c = peek();
    if (is_digit(c) && try_ipv4(t)) return t;
    if ((is_hex(c) || c == ':') && try_ipv6(t)) return t;
    const bool negative = c == '-';
    std::size_t p = pos_ + (negative ? 1 : 0);
    const auto digits_start = p;
    while (p < text_.size() && is_digit(text_[p])) ++p;
    const auto digits = text_.substr(digits_start, p - digits_start);
    const bool fraction = p + 1 < text_.size() && text_[p] == '.' && is_digit(text_[p + 1]);
    if (negative || c == '.' || fraction) {
        if (fraction) {  // [-]digits*.digits+ ("5." is 5 then '.')
            ++p;
            while (p < text_.size() && is_digit(text_[p])) ++p;
            t.kind = Token::Kind::floating;
        } else {
            t.kind = Token::Kind::integer;
            parse_decimal(digits, negative, t);
        }
        t.text = std::string(text_.substr(pos_, p - pos_));
        advance(p - pos_);
        return t;
    }
    // A run of word characters: all digits is an integer, 0x + hex digits a hex integer.
    while (p < text_.size() && is_word_char(text_[p])) ++p;
    const auto run = text_.substr(pos_, p - pos_);
    t.text = std::string(run);
    advance(p - pos_);
    if (run.size() == digits.size()) {
        t.kind = Token::Kind::integer;
        parse_decimal(digits, false, t);
        return t;
    }
    if (run.size() > 2 && run[0] == '0' && (run[1] == 'x' || run[1] == 'X')) {
        bool all_hex = true;
        for (char h : run.substr(2)) all_hex = all_hex && is_hex(h);
        if (all_hex) {
            t.kind = Token::Kind::hex;
            std::uint64_t v = 0;
            for (char h : run.substr(2)) {
                if (v >
                    (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) >> 4)) {
                    t.overflow = true;
                    break;
                }
                v = v * 16 + hex_value(h);
            }
            if (!t.overflow) t.value = static_cast<std::int64_t>(v);
            return t;
        }
    }
    t.kind = Token::Kind::word;
    return t;
}

}  // namespace netloom::drill
