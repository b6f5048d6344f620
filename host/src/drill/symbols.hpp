// symbols.hpp — the names a script may use for numbers (AF_INET, O_NONBLOCK, ECONNRESET,
// TCP_NODELAY...), with Linux's values whatever the target: both engine targets speak Linux's ABI.
//
// Contract: `lookup` is exact and case-sensitive; unknown names are nullopt (the interpreter
// reports "unknown symbol: 'X'"). `errno_name` gives the symbol for a value ("" if none).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netloom::drill {

std::optional<std::int64_t> lookup_symbol(std::string_view name);
std::string errno_name(int value);
/// strerror-like text for messages ("Connection refused").
std::string errno_text(int value);

}  // namespace netloom::drill
