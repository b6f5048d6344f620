// lexer.hpp — the tokens of a packetdrill script, read one at a time.
//
// Contract: `Lexer::next` returns the script's tokens in order and then `end` forever; it never
// reads past the text and holds no more than one token plus the spliced tokens of one define, so
// memory stays bounded whatever the script's length. Comments (`//`, `/* */`) are skipped; `//!
// NAME: TEXT` comments are kept as directives. BSD `#ifdef NAME` ... `#endif` blocks (at the start
// of a line, no nesting) are dropped unless NAME is defined. A word equal to a defined name is
// replaced by the tokens of its value (not expanded again). Malformed text (an unterminated string,
// backquote, `%{` or `/*`, a bad escape) throws ScriptError::syntax at the construct's start.
// Numbers too big for 64 bits are still tokens (`overflow` set): the parser decides whether the
// text is a number (an error then) or, say, an MD5 hex string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "drill/script.hpp"

namespace netloom::drill {

struct Token {
    enum class Kind {
        end,        ///< end of the text
        integer,    ///< 42, -7 (value; overflow if it does not fit in int64)
        hex,        ///< 0x1f (value; overflow likewise)
        floating,   ///< 1.5, .25, -0.5 (text as written)
        word,       ///< [A-Za-z0-9_]+ that is not a number
        string,     ///< "..." (text: C escapes decoded)
        backquote,  ///< `...` (text: the content as written, may span lines)
        code,       ///< %{ ... }% (text: the content without surrounding spaces and tabs)
        ellipsis,   ///< ...
        option,     ///< --name[=value] (text: name; option_value; has_value)
        ipv4,       ///< 192.0.2.1
        ipv6,       ///< 2001:db8::1
        punct,      ///< any other single byte (text: that byte)
    };
    Kind kind = Kind::end;
    std::string text;
    std::string option_value;
    bool has_value = false;
    std::int64_t value = 0;
    bool overflow = false;
    bool space_before = false;  ///< whitespace or a comment separates it from the previous token
    std::string_view raw;       ///< as written (for a define's tokens: in the define's value)
    SourceLocation at;
    std::size_t begin = 0, end = 0;  ///< byte range in the script (a define's tokens: the word's)

    bool is(char c) const { return kind == Kind::punct && text.size() == 1 && text[0] == c; }
    bool is_word(std::string_view w) const { return kind == Kind::word && text == w; }
};

/// How a token looks in an error message: its text as written, quoted by the caller; control
/// and non-ASCII bytes shown as \xHH, long tokens cut.
std::string describe_token(const Token& token);

class Lexer {
public:
    /// `defines` (from the command line) must outlive the lexer.
    Lexer(std::string_view text, std::string path,
          const std::map<std::string, std::string>& defines);

    Token next();

    /// A `--define=NAME=VALUE` option of the script itself; the command line's value wins.
    void add_define(const std::string& name, const std::string& value);

    /// The `//!` directives seen so far, in order.
    std::vector<ScriptDirective>& directives() { return directives_; }

    const std::string& path() const { return path_; }
    std::string_view text() const { return text_; }

private:
    [[noreturn]] void fail(SourceLocation at, const std::string& message) const;
    SourceLocation location(std::size_t offset) const;
    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    void advance(std::size_t count = 1);
    bool skip_space_and_comments();  // true if anything was skipped
    void line_comment();
    void block_comment();
    void preprocessor_line();
    void skip_to_endif(SourceLocation ifdef_at);
    Token lex_one();
    Token lex_string(Token token);
    Token lex_backquote(Token token);
    Token lex_code(Token token);
    Token lex_option(Token token);
    Token lex_number_or_word(Token token);
    bool try_ipv4(Token& token);
    bool try_ipv6(Token& token);
    void expand(Token& token);
    const std::string* lookup_define(const std::string& name) const;
    bool is_defined(const std::string& name) const;

    std::string_view text_;
    std::string path_;
    const std::map<std::string, std::string>& defines_;
    // Script defines; values stay put (tokens point into them) even when a name is redefined.
    std::map<std::string, const std::string*> script_defines_;
    std::deque<std::string> script_define_values_;
    std::vector<ScriptDirective> directives_;
    std::deque<Token> pending_;  // the rest of a define's tokens
    std::size_t pos_ = 0;
    int line_ = 1;
    std::size_t line_begin_ = 0;   // offset of the current line's first byte
    bool line_has_token_ = false;  // something other than blanks precedes pos_ on this line
    bool in_ifdef_ = false;
    SourceLocation ifdef_at_;
};

}  // namespace netloom::drill
