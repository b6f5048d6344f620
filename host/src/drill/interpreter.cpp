// Running a script's events in order against a target, with packetdrill's timing rules
// (reference §3): relative times count from when the previous event really finished, except that
// an inbound packet after an inbound packet is anchored on the previous one's scheduled time.
#include "drill/commands.hpp"
#include "drill/interpreter_impl.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netloom::drill {

const char* to_string(Outcome outcome) noexcept {
    switch (outcome) {
        case Outcome::pass: return "ok";
        case Outcome::fail: return "FAIL";
        case Outcome::unsupported: return "unsupported";
        case Outcome::invalid: return "invalid";
        case Outcome::divergent: return "divergent";
    }
    return "?";
}

std::uint32_t parse_ipv4(const std::string& text) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return 0;
    return ntohl(a.s_addr);
}

std::string seconds_text(std::int64_t usecs) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%.6f", static_cast<double>(usecs) / 1e6);
    return buffer;
}

Interpreter::Interpreter(const Script& script, Target& target, const RunSettings& settings)
    : script_(script), target_(target), settings_(settings) {}

std::int64_t Interpreter::resolve(const TimeSpec& spec, std::int64_t anchor) const {
    return spec.kind == TimeSpec::Kind::relative ? anchor + spec.usecs : spec.usecs;
}

Interpreter::Timing Interpreter::schedule(const Event& event, bool inbound_packet) {
    Timing t;
    const TimeSpec& spec = event.time.start;
    const std::int64_t anchor =
        inbound_packet && previous_inbound_ ? previous_scheduled_ : previous_end_;
    if (spec.kind != TimeSpec::Kind::any) {
        t.start = resolve(spec, anchor);
        t.end = *t.start;
        if (spec.range_end_usecs) {
            TimeSpec end = spec;
            end.usecs = *spec.range_end_usecs;
            t.end = resolve(end, anchor);
        }
        previous_scheduled_ = *t.start;
    }
    const double gap = static_cast<double>(t.end - previous_end_);
    t.tolerance = std::max<std::int64_t>(
        settings_.tolerance_usecs,
        static_cast<std::int64_t>(std::llround(settings_.tolerance_percent / 100.0 * gap)));
    return t;
}

// For events the interpreter performs: wait until the scheduled time, then check that the action
// starts within tolerance of it (on a real-time target the previous event may have run late).
void Interpreter::wait_for(const Event& event, const Timing& timing, const char* what) {
    if (!timing.start) return;
    target_.run_until(start_us_ + *timing.start);
    const std::int64_t now = script_now();
    if (now > *timing.start + timing.tolerance) {
        throw ScriptFailure{event.at.line, std::string("timing error: expected ") + what + " at " +
                                               seconds_text(*timing.start) +
                                               " sec but happened at " + seconds_text(now) +
                                               " sec"};
    }
}

// Commands and code blocks are checked before anything runs: a script that needs a shell or a
// Python feature netloom does not have is "unsupported" from the start, never half run.
void Interpreter::precheck() const {
    auto check_command = [](int line, const std::string& text) {
        try {
            plan_command(text);
        } catch (const std::invalid_argument& e) {
            throw ScriptUnsupported{line, e.what()};
        }
    };
    if (script_.init_command) check_command(0, *script_.init_command);
    if (script_.cleanup_command) check_command(0, *script_.cleanup_command);
    for (const Event& event : script_.events) {
        if (const auto* cmd = std::get_if<CommandEvent>(&event.body)) {
            check_command(event.at.line, cmd->command);
        } else if (const auto* code = std::get_if<CodeEvent>(&event.body)) {
            try {
                plan_code(code->code);
            } catch (const std::invalid_argument& e) {
                throw ScriptUnsupported{event.at.line, e.what()};
            }
        } else if (event.time.blocking_end) {
            throw ScriptUnsupported{event.at.line, "blocking system calls with START...END times"};
        }
    }
}

void Interpreter::run() {
    precheck();
    local_ip_ = parse_ipv4(settings_.local_ip);
    remote_ip_ = parse_ipv4(settings_.remote_ip);
    remote_port_ = settings_.remote_port;
    // The untimed init command runs before the script's clock starts, as upstream packetdrill
    // does: setting a dozen sysctls takes milliseconds that the events' times do not include.
    if (script_.init_command) command(Event{}, *script_.init_command);
    start_us_ = target_.now_us();
    for (const Event& event : script_.events) {
        if (const auto* packet = std::get_if<PacketEvent>(&event.body)) {
            const bool in = packet->direction == Direction::inbound;
            Timing timing = schedule(event, in);
            if (in) {
                wait_for(event, timing, "inbound packet");
                inbound(event, *packet);
                previous_end_ = script_now();
            } else {
                outbound(event, *packet, timing);  // sets previous_end_ to the arrival time
            }
            previous_inbound_ = in;
            continue;
        }
        previous_inbound_ = false;
        Timing timing = schedule(event, false);
        if (const auto* call = std::get_if<SyscallEvent>(&event.body)) {
            syscall(event, *call, timing);
        } else if (const auto* cmd = std::get_if<CommandEvent>(&event.body)) {
            wait_for(event, timing, "command");
            command(event, cmd->command);
            previous_end_ = script_now();
        } else if (const auto* code = std::get_if<CodeEvent>(&event.body)) {
            wait_for(event, timing, "code block");
            code_block(event, *code);
            previous_end_ = script_now();
        }
    }
    finish();
}

void Interpreter::finish() {
    // The cleanup command restores host settings the script changed; a target that cannot apply
    // them now (an engine is built and about to be discarded) has nothing to restore.
    if (script_.cleanup_command) command(Event{}, *script_.cleanup_command, true);
    evaluate_code_blocks();
}

ScriptResult run_script(const Script& script, Target& target, const RunSettings& settings) {
    ScriptResult result;
    result.path = script.path;
    result.target = target.name();
    Interpreter interpreter(script, target, settings);
    try {
        interpreter.run();
        result.outcome = Outcome::pass;
    } catch (const ScriptFailure& f) {
        result.outcome = Outcome::fail;
        result.line = f.line;
        result.message = f.message;
    } catch (const ScriptUnsupported& u) {
        result.outcome = Outcome::unsupported;
        result.line = u.line;
        result.message = "unsupported: " + u.what;
    } catch (const ScriptInvalid& i) {
        result.outcome = Outcome::invalid;
        result.line = i.line;
        result.message = i.message;
    } catch (const ScriptError& e) {
        result.outcome = Outcome::invalid;
        result.line = e.at().line;
        result.message = e.message();
    } catch (const std::exception& e) {
        // A target that throws (a plugin refusing a config, a system call failing) is not the
        // script's fault: report it as a failure with its text rather than dying.
        result.outcome = Outcome::fail;
        result.message = std::string("target error: ") + e.what();
    }
    result.warnings = interpreter.warnings;
    try {
        result.script_seconds = static_cast<double>(interpreter.script_now()) / 1e6;
        target.close_all();
    } catch (const std::exception&) {
    }
    // `//! diverges TARGET: why` turns this target's failure into an expected divergence.
    for (const auto& d : script.directives) {
        if (d.name != "diverges " + result.target) continue;
        result.divergence = d.argument;
        if (result.outcome == Outcome::fail) result.outcome = Outcome::divergent;
    }
    return result;
}

}  // namespace netloom::drill
