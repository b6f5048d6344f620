// script.hpp — a parsed packetdrill script: options, events, and every expression they carry.
//
// Contract: the parser (parser.hpp) produces a Script whose values are exactly as written (no
// sequence mapping, no symbol lookup, no defaults filled in); the interpreter gives them meaning.
// Times are microseconds. Every Event carries the line and column it starts at and its source
// text, so any later error can be reported as PATH:LINE: like packetdrill does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace netloom::drill {

struct SourceLocation {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

/// What made a script unusable: the exit status 2 cases of `netloom drill`.
class ScriptError : public std::runtime_error {
public:
    enum class Kind {
        syntax,       ///< the text is not a script ("parse error at 'X': syntax error")
        semantic,     ///< well-formed but meaningless (time going backwards, inbound without win)
        unsupported,  ///< a construct netloom's interpreter does not implement (named)
    };
    ScriptError(Kind kind, std::string path, SourceLocation at, const std::string& message)
        : std::runtime_error(path + ":" + std::to_string(at.line) + ":" +
                             std::to_string(at.column) + ": " + message),
          kind_(kind),
          path_(std::move(path)),
          at_(at),
          message_(message) {}
    Kind kind() const noexcept { return kind_; }
    const std::string& path() const noexcept { return path_; }
    SourceLocation at() const noexcept { return at_; }
    const std::string& message() const noexcept { return message_; }

private:
    Kind kind_;
    std::string path_;
    SourceLocation at_;
    std::string message_;
};

// ---- time -------------------------------------------------------------------------------------

/// One time as written: `1.5`, `+0.1`, `*`, or a range `T1~T2` / `+T1~+T2` (range_end set; its
/// relative flag is the same as the start's).
struct TimeSpec {
    enum class Kind { absolute, relative, any };
    Kind kind = Kind::absolute;
    std::int64_t usecs = 0;
    std::optional<std::int64_t> range_end_usecs;
};

/// An event's time: `T`, or a blocking call `START...END` (blocking_end set).
struct EventTime {
    TimeSpec start;
    std::optional<TimeSpec> blocking_end;
};

// ---- expressions (system call arguments and results) -------------------------------------------

struct Expression;
using ExpressionList = std::vector<Expression>;

/// `name=value` inside `{...}`; `msg_iov(1)=[...]` gives name "msg_iov" and name_argument 1.
struct StructField;

struct Expression {
    enum class Kind {
        integer,    ///< 42, -1, 0x02 (value)
        symbol,     ///< O_NONBLOCK, SOL_SOCKET, AF_INET (text)
        string,     ///< "abc" with C escapes already decoded (text); `"abc"...` sets ellipsis_after
        ellipsis,   ///< `...`
        list,       ///< [a, b] (elements)
        structure,  ///< {a=1, b=2} or {..., 100} (fields; unnamed elements have an empty name)
        bit_or,     ///< A | B | C (elements, two or more)
        call,       ///< inet_addr("1.2.3.4"), htons(8080) (text = function name, elements = args)
    };
    Kind kind = Kind::integer;
    std::int64_t value = 0;
    std::string text;
    bool ellipsis_after = false;
    ExpressionList elements;
    std::vector<StructField> fields;
    SourceLocation at;
};

struct StructField {
    std::string name;  // empty for a positional element
    std::optional<std::int64_t> name_argument;
    Expression value;
};

// ---- system calls ----------------------------------------------------------------------------

/// `name(args) = result [ERRNO] [(note)]`.
struct SyscallEvent {
    std::string name;
    ExpressionList arguments;
    Expression result;                      ///< integer (or symbol/ellipsis as written)
    std::optional<std::string> errno_name;  ///< "EINPROGRESS"; not checked when absent
    std::string note;                       ///< the text in parentheses after the errno, ignored
};

// ---- packets ---------------------------------------------------------------------------------

enum class Direction { inbound, outbound };  // `<` injected, `>` expected from the stack

enum class Ecn { unspecified, noecn, ect0, ect1, ce, ect01 };

/// `(tos 0x28)`, `[ect0]`, `(ttl 4, flowlabel 0x12345)` right after the direction.
struct IpInfo {
    std::optional<std::uint8_t> tos;  ///< whole byte (`tos`, BSD `class`)
    std::optional<std::uint8_t> dscp;
    Ecn ecn = Ecn::unspecified;
    std::optional<std::uint8_t> ttl;  ///< `ttl` or BSD `hlim`
    std::optional<std::uint32_t> flow_label;
    bool empty() const { return !tos && !dscp && ecn == Ecn::unspecified && !ttl && !flow_label; }
};

struct TcpOptionSpec {
    enum class Kind {
        nop,
        eol,
        mss,           ///< value
        window_scale,  ///< value
        sack_permitted,
        sack,           ///< sack_blocks (script-space edges)
        timestamp,      ///< ts_val, ts_ecr (script space)
        fast_open,      ///< `FO [cookie]` (kind 34), bytes = cookie
        fast_open_exp,  ///< `FOEXP [cookie]` (kind 254, magic 0xF989)
        md5,            ///< `md5 hex` (bytes) or `md5 valid` (md5_valid)
        generic,        ///< `gen-K hex`, `exp-XXXX hex`, raw: raw_kind + bytes
    };
    Kind kind = Kind::nop;
    std::uint32_t value = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sack_blocks;
    std::uint32_t ts_val = 0, ts_ecr = 0;
    bool ts_val_any = false;       ///< BSD `TS val ... ecr N`
    bool ts_ecr_absolute = false;  ///< BSD `ecr N!`
    bool md5_valid = false;
    std::uint8_t raw_kind = 0;
    std::vector<std::uint8_t> bytes;
};

struct TcpSegmentSpec {
    std::string flags;          ///< as written: "S.", "F.", ".", "-" (none), "SEW", "P."
    bool seq_any = false;       ///< `...(LEN)`: sequence not checked
    bool seq_absolute = false;  ///< `START:END(LEN)!`: sent / compared unmapped
    std::uint32_t seq_start = 0, seq_end = 0, length = 0;
    std::optional<std::uint32_t> ack;
    std::optional<std::uint32_t> window;  ///< raw 16-bit field; required inbound
    std::optional<std::uint32_t> urgent;
    /// nullopt: no option list written (means "no options"); any_options: `<...>`.
    std::optional<std::vector<TcpOptionSpec>> options;
    bool any_options = false;
    std::optional<std::pair<std::uint16_t, std::uint16_t>> ports;              ///< `SPORT>DPORT`
    std::optional<std::pair<std::uint16_t, std::uint16_t>> udp_encapsulation;  ///< `/udp(S > D)`
};

struct IcmpSpec {
    std::string type;  ///< as written: "unreachable", "type_3", "packet_too_big"
    std::string code;  ///< as written, empty when omitted: "frag_needed", "code_4"
    std::optional<std::uint32_t> mtu;
    std::optional<std::uint32_t> id;
    enum class Echoed { tcp, udp, raw } echoed = Echoed::tcp;
    std::uint32_t echoed_start = 0, echoed_end = 0, echoed_length = 0;  ///< `[S:E(L)]`
    /// BSD `[S:E(L)/udp(S > D)]`: the echoed TCP segment was carried in UDP with these ports.
    std::optional<std::pair<std::uint16_t, std::uint16_t>> echoed_udp_encapsulation;
};

struct UdpSpec {
    std::optional<std::pair<std::uint16_t, std::uint16_t>> ports;
    std::uint32_t length = 0;
};

struct PacketEvent {
    Direction direction = Direction::inbound;
    IpInfo ip;
    /// An outer `ipv4 A > B:`/`ipv6`/`gre`/`mpls` prefix: the parser refuses it as unsupported.
    std::variant<TcpSegmentSpec, IcmpSpec, UdpSpec> body;
};

// ---- other events ----------------------------------------------------------------------------

struct CommandEvent {  ///< `` `text` `` — never executed by a shell; see commands.hpp
    std::string command;
};

struct CodeEvent {  ///< `%{ text }%`
    std::string code;
};

struct Event {
    SourceLocation at;
    std::string source;  ///< the event's text from the script (for messages), trimmed
    EventTime time;
    std::variant<PacketEvent, SyscallEvent, CommandEvent, CodeEvent> body;
};

struct ScriptOption {
    std::string name;   ///< without the leading "--": "tolerance_usecs"
    std::string value;  ///< "" for a flag
    SourceLocation at;
};

/// A netloom directive in a comment, invisible to other packetdrill tools: `//! NAME: TEXT`.
/// `//! config: {tcp: {sack: false}}` (YAML merged into the engine stack's config);
/// `//! diverges linux: why` (this target is expected to fail the script; reported as such).
struct ScriptDirective {
    std::string name;      ///< "config", "diverges linux", "diverges tcp_classic"
    std::string argument;  ///< the text after the first ':', trimmed
    SourceLocation at;
};

struct Script {
    std::string path;
    std::vector<ScriptDirective> directives;
    std::vector<ScriptOption> options;        ///< in order, as written in the file
    std::optional<std::string> init_command;  ///< untimed backquote before the first event
    std::optional<std::string> cleanup_command;
    std::vector<Event> events;
};

/// Parser inputs beyond the text: `--define NAME=VALUE` from the command line (replaces each
/// later word NAME), and the names set for `#ifdef` (BSD).
struct ParseOptions {
    std::map<std::string, std::string> defines;
    /// More is an error, not unbounded memory: an event costs up to ~900 bytes parsed, so the
    /// default caps a script near 200 MB (the largest real scripts have a few hundred events).
    std::size_t max_events = 200'000;
};

}  // namespace netloom::drill
