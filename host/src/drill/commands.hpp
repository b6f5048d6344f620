// commands.hpp — what netloom drill does with backquoted shell commands and %{ }% code blocks.
// A script can never make the interpreter run a shell or Python: commands are read as data.
//
// Understood commands (reference §13), several joined by `;` or `&&`:
//   sysctl -w NAME=VALUE   Linux names (net.ipv4.tcp_sack) go to Target::set_sysctl; the FreeBSD
//                          names of the common corpora are mapped to them, or accepted when the
//                          value is FreeBSD's default and netloom has no such knob.
//   sockstat ... | grep -c STATE | grep N   an assertion on the number of connections in STATE.
// Anything else makes the script "unsupported" before it starts. Code blocks may hold only
// `assert tcpi_state == TCPI_X` and `assert tcpi_options == (TCPI_OPT_A | ...)` lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drill/target.hpp"

namespace netloom::drill {

struct CommandAction {
    enum class Kind { sysctl, count_state, ignore } kind = Kind::ignore;
    std::string name, value;       ///< sysctl: Linux name without "net.ipv4.", value
    std::uint8_t linux_state = 0;  ///< count_state
    std::size_t expected_count = 0;
};

/// The actions of one backquoted command; throws std::invalid_argument naming what is not
/// understood.
std::vector<CommandAction> plan_command(const std::string& text);

struct CodeAssertion {
    enum class Field { state, options } field = Field::state;
    std::int64_t expected = 0;
    std::string text;
};
/// Throws std::invalid_argument for anything but the assertions above.
std::vector<CodeAssertion> plan_code(const std::string& code);

}  // namespace netloom::drill
