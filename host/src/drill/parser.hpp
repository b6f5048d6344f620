// parser.hpp — packetdrill script text to a Script (script.hpp).
//
// Contract: returns a Script holding every value exactly as written, or throws ScriptError with
// the kind (syntax / semantic / unsupported), the line:column of the offending token and a
// message modelled on packetdrill's ("parse error at 'X': syntax error", "semantic error: ...";
// an unsupported construct's message only names it, the caller says "unsupported"). Nothing in the
// script is executed or looked up. Any input (binary garbage, truncated text, NUL bytes, 10^6
// lines) ends in one or the other, in time linear in its length; memory is bounded by
// ParseOptions::max_events and, for files, by kMaxScriptBytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "drill/script.hpp"

namespace netloom::drill {

/// parse_script_file refuses bigger files (ScriptError::unsupported) before reading them.
inline constexpr std::size_t kMaxScriptBytes = 64u << 20;

/// Largest time a script may write: 10^6 s (11.6 days); more is a semantic error, not a wrap.
inline constexpr std::int64_t kMaxScriptTimeUsecs = 1'000'000'000'000;

/// Deepest nesting of [ ] { } and calls in a system call argument.
inline constexpr int kMaxExpressionDepth = 64;

/// `text` is the whole script; `path` only names it in errors and in Script::path.
Script parse_script(std::string_view text, const std::string& path,
                    const ParseOptions& options = {});

/// Reads `path` (at most kMaxScriptBytes) and parses it. A file that cannot be read gives
/// ScriptError::syntax at line 0.
Script parse_script_file(const std::string& path, const ParseOptions& options = {});

}  // namespace netloom::drill
