// interpreter.hpp — runs one parsed script against one target and says how it went, in
// packetdrill's words: the first mismatch with its script line, expected and actual values and
// times.
//
// Contract: `run_script` never throws for anything a script or a target does: every outcome is a
// ScriptResult. Events run strictly in file order (reference §14); outbound packets of other
// connections than the one under test are skipped; packets sent after the last `>` line are never
// examined. A construct the target cannot express ends the script as `unsupported`, counted apart
// from failures. The target is left for the caller to destroy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drill/script.hpp"
#include "drill/target.hpp"

namespace netloom::drill {

struct RunSettings {
    std::int64_t tolerance_usecs = 4000;
    double tolerance_percent = 12.5;  // upstream packetdrill's default
    bool non_fatal_packet = false;
    bool non_fatal_syscall = false;
    /// --strict_segments: one live segment per `>` line. Without it, consecutive segments that a
    /// TSO/GSO split could have made are joined to match a line with a bigger length, as
    /// upstream packetdrill does (its Linux corpus writes TSO-sized segments).
    bool strict_segments = false;
    std::uint16_t remote_port = 47123;  ///< the script peer's port (passive opens)
    std::string local_ip = "192.168.0.1", remote_ip = "192.0.2.1";  ///< as the target's options
    std::uint16_t bind_port = 8080, connect_port = 8080;
};

enum class Outcome {
    pass,
    fail,
    unsupported,  ///< the target cannot express something the script needs
    invalid,      ///< the script itself is unusable (exit status 2)
    divergent,    ///< failed, and the script marks this target as expected to differ
};
const char* to_string(Outcome outcome) noexcept;

struct ScriptResult {
    std::string path;
    std::string target;
    Outcome outcome = Outcome::pass;
    int line = 0;
    std::string message;  ///< the failure or unsupported text (several lines for packets)
    std::string
        divergence;  ///< the script's reason when outcome is divergent (or marked but passed)
    std::vector<std::string> warnings;  ///< --non_fatal mismatches
    double script_seconds = 0;          ///< script time covered (virtual on engines)
};

/// "192.0.2.1" -> host-order address; 0 when not an IPv4 address.
std::uint32_t parse_ipv4(const std::string& text);

ScriptResult run_script(const Script& script, Target& target, const RunSettings& settings);

}  // namespace netloom::drill
