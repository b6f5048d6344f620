// `netloom drill`: options, one forked process per script, results gathered over pipes.
#include "drill/drill_command.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "drill/interpreter.hpp"
#include "drill/parser.hpp"
#include "drill/targets.hpp"

namespace netloom::drill {
namespace {

using Clock = std::chrono::steady_clock;

struct Job {
    std::string path;
    Script script;
    RunSettings settings;
    TargetOptions target;
    ScriptResult result;
    bool done = false;
    pid_t pid = -1;
    int pipe_fd = -1;
    std::string output;
    Clock::time_point started;
    double wall_seconds = 0;
};

std::int64_t to_integer(const std::string& name, const std::string& value, SourceLocation at,
                        const std::string& path, std::int64_t low, std::int64_t high) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(value, &used, 0);
        if (used == value.size() && v >= low && v <= high) return v;
    } catch (const std::exception&) {
    }
    throw ScriptError(ScriptError::Kind::semantic, path, at,
                      "--" + name + "=" + value + ": expected an integer in " +
                          std::to_string(low) + ".." + std::to_string(high));
}

// Script options (reference §2), overridden by the command line. Throws ScriptError.
void apply_options(Job& job, const DrillOptions& o) {
    std::map<std::string, std::pair<std::string, SourceLocation>> values;
    for (const auto& opt : job.script.options) values[opt.name] = {opt.value, opt.at};
    for (const auto& [name, value] : o.overrides) values[name] = {value, SourceLocation{}};
    const std::string& path = job.path;
    for (const auto& [name, entry] : values) {
        const auto& [value, at] = entry;
        if (name == "tolerance_usecs") {
            job.settings.tolerance_usecs = to_integer(name, value, at, path, 0, 100'000'000);
        } else if (name == "tolerance_percent") {
            job.settings.tolerance_percent =
                static_cast<double>(to_integer(name, value, at, path, 0, 1000));
        } else if (name == "ip_version") {
            if (value == "ipv4") continue;
            if (value == "ipv6" || value == "ipv4-mapped-ipv6")
                throw ScriptError(ScriptError::Kind::unsupported, path, at,
                                  "--ip_version=" + value + " (netloom speaks IPv4 only so far)");
            throw ScriptError(ScriptError::Kind::semantic, path, at,
                              "--ip_version: expected ipv4, ipv6 or ipv4-mapped-ipv6");
        } else if (name == "mtu") {
            job.target.mtu =
                static_cast<std::uint32_t>(to_integer(name, value, at, path, 576, 65535));
        } else if (name == "local_ip") {
            job.target.local_ip = job.settings.local_ip = value;
        } else if (name == "remote_ip") {
            job.target.remote_ip = job.settings.remote_ip = value;
        } else if (name == "gateway_ip") {
            job.target.gateway_ip = value;
        } else if (name == "netmask_ip") {
            const std::uint32_t mask = parse_ipv4(value);
            int bits = 0;
            while (bits < 32 && (mask & (0x80000000u >> bits))) ++bits;
            job.target.prefix_length = bits;
        } else if (name == "bind_port") {
            job.target.bind_port = job.settings.bind_port =
                static_cast<std::uint16_t>(to_integer(name, value, at, path, 1, 65535));
        } else if (name == "connect_port") {
            job.target.connect_port = job.settings.connect_port =
                static_cast<std::uint16_t>(to_integer(name, value, at, path, 1, 65535));
        } else if (name == "non_fatal") {
            for (std::size_t b = 0; b <= value.size();) {
                auto e = value.find(',', b);
                const std::string kind = value.substr(b, e == std::string::npos ? e : e - b);
                if (kind == "packet")
                    job.settings.non_fatal_packet = true;
                else if (kind == "syscall")
                    job.settings.non_fatal_syscall = true;
                else
                    throw ScriptError(ScriptError::Kind::semantic, path, at,
                                      "--non_fatal: expected packet and/or syscall");
                if (e == std::string::npos) break;
                b = e + 1;
            }
        } else if (name == "define") {
            continue;  // applied by the parser
        } else if (name == "strict_segments") {
            job.settings.strict_segments = true;
        } else if (name == "verbose" || name == "dry_run" || name == "speed" || name == "mss") {
            continue;  // no effect here
        } else if (name == "udp_encapsulation" || name == "tcp_md5_secret" ||
                   name == "tcp_ts_ecr_scaled" || name == "tcp_ts_tick_usecs" ||
                   name.rfind("wire_", 0) == 0) {
            throw ScriptError(ScriptError::Kind::unsupported, path, at, "--" + name);
        } else {
            throw ScriptError(ScriptError::Kind::syntax, path, at, "unknown option --" + name);
        }
    }
    for (const auto& d : job.script.directives) {
        if (d.name == "config") {
            job.target.extra_config += (job.target.extra_config.empty() ? "" : "\n") + d.argument;
        } else if (d.name.rfind("diverges ", 0) != 0) {
            throw ScriptError(
                ScriptError::Kind::syntax, path, d.at,
                "unknown directive //! " + d.name + " (known: config, diverges TARGET)");
        }
    }
}

nlohmann::json to_json(const ScriptResult& r) {
    return {{"outcome", to_string(r.outcome)},
            {"line", r.line},
            {"message", r.message},
            {"divergence", r.divergence},
            {"warnings", r.warnings},
            {"script_seconds", r.script_seconds}};
}

ScriptResult from_json(const nlohmann::json& j, const Job& job) {
    ScriptResult r;
    r.path = job.path;
    r.target = job.target.engine;
    const std::string outcome = j.at("outcome");
    for (Outcome o :
         {Outcome::pass, Outcome::fail, Outcome::unsupported, Outcome::invalid, Outcome::divergent})
        if (outcome == to_string(o)) r.outcome = o;
    r.line = j.at("line");
    r.message = j.at("message");
    r.divergence = j.at("divergence");
    r.warnings = j.at("warnings").get<std::vector<std::string>>();
    r.script_seconds = j.at("script_seconds");
    return r;
}

// In the child: build the target, run, write the result as one JSON document, exit.
[[noreturn]] void run_child(Job& job, int write_fd) {
    ScriptResult result;
    try {
        std::unique_ptr<Target> target = job.target.engine == "linux"
                                             ? make_linux_target(job.target)
                                             : make_engine_target(job.target);
        result = run_script(job.script, *target, job.settings);
    } catch (const ScriptError& e) {
        result.outcome =
            e.kind() == ScriptError::Kind::unsupported ? Outcome::unsupported : Outcome::invalid;
        result.line = e.at().line;
        result.message = e.message();
    } catch (const std::exception& e) {
        result.outcome = Outcome::fail;
        result.message = std::string("target error: ") + e.what();
    }
    const std::string text = to_json(result).dump();
    std::size_t at = 0;
    while (at < text.size()) {
        const ssize_t n = ::write(write_fd, text.data() + at, text.size() - at);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
    }
    ::close(write_fd);
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(0);
}

void start(Job& job) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(stdout);
    std::fflush(stderr);
    job.started = Clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::close(fds[0]);
        run_child(job, fds[1]);
    }
    ::close(fds[1]);
    job.pid = pid;
    job.pipe_fd = fds[0];
}

void finish(Job& job, bool timed_out, double timeout) {
    int status = 0;
    ::waitpid(job.pid, &status, 0);
    job.wall_seconds = std::chrono::duration<double>(Clock::now() - job.started).count();
    job.done = true;
    if (timed_out) {
        job.result.outcome = Outcome::fail;
        job.result.message = "timed out after " + std::to_string(static_cast<int>(timeout)) +
                             " s of wall time (killed)";
        return;
    }
    try {
        job.result = from_json(nlohmann::json::parse(job.output), job);
        return;
    } catch (const std::exception&) {
    }
    job.result.outcome = Outcome::fail;
    job.result.message = WIFSIGNALED(status) ? "the script's process died with signal " +
                                                   std::to_string(WTERMSIG(status))
                                             : "the script's process exited without a result";
}

void print(const Job& job) {
    const ScriptResult& r = job.result;
    const std::string where = job.path + (r.line > 0 ? ":" + std::to_string(r.line) : "");
    switch (r.outcome) {
        case Outcome::pass:
            std::printf("%s: ok%s\n", job.path.c_str(),
                        r.divergence.empty() ? "" : " (marked divergent, but passed)");
            break;
        case Outcome::divergent:
            std::printf("%s: divergent (expected: %s): %s\n", where.c_str(), r.divergence.c_str(),
                        r.message.c_str());
            break;
        default: std::printf("%s: %s\n", where.c_str(), r.message.c_str()); break;
    }
    for (const auto& w : r.warnings) std::printf("%s: warning: %s\n", job.path.c_str(), w.c_str());
    std::fflush(stdout);
}

}  // namespace

int command_drill(const DrillOptions& o) {
    if (o.engine != "tcp_utcp" && o.engine != "tcp_classic" && o.engine != "linux") {
        std::fprintf(stderr, "netloom drill: --engine: expected tcp_utcp, tcp_classic or linux\n");
        return 2;
    }
    if (o.engine == "linux" && ::geteuid() != 0) {
        std::fprintf(stderr,
                     "netloom drill: --engine linux needs root (a network namespace and "
                     "a TUN device per script)\n");
        return 2;
    }
    const double timeout =
        o.timeout_seconds > 0 ? o.timeout_seconds : (o.engine == "linux" ? 600.0 : 120.0);
    ParseOptions parse_options;
    parse_options.defines = o.defines;
    std::vector<Job> jobs;
    jobs.reserve(o.scripts.size());
    int invalid = 0;
    for (const auto& path : o.scripts) {
        Job job;
        job.path = path;
        job.target.engine = o.engine;
        job.target.base_config = o.base_config;
        job.target.plugin_path = o.plugin_path;
        job.target.verbose = o.verbose;
        try {
            job.script = parse_script_file(path, parse_options);
            apply_options(job, o);
        } catch (const ScriptError& e) {
            job.done = true;
            job.result.path = path;
            const bool unsupported = e.kind() == ScriptError::Kind::unsupported;
            job.result.outcome = unsupported ? Outcome::unsupported : Outcome::invalid;
            job.result.message = (unsupported ? "unsupported: " : "") + std::string(e.what());
            if (unsupported) {
                std::printf("%s: %s\n", path.c_str(), job.result.message.c_str());
            } else {
                std::fprintf(stderr, "%s\n", e.what());
                ++invalid;
            }
        }
        if (o.dry_run && !job.done) {
            job.done = true;
            std::printf("%s: parsed (%zu events)\n", path.c_str(), job.script.events.size());
        }
        jobs.push_back(std::move(job));
    }
    // Scheduling: at most `jobs` children at once; collect in completion order, print in order.
    const std::size_t width = static_cast<std::size_t>(std::max(1, o.jobs));
    std::size_t next = 0, running = 0, printed = 0;
    const auto wall_start = Clock::now();
    std::vector<Job*> active;
    auto print_ready = [&] {
        while (printed < jobs.size() && jobs[printed].done) {
            if (jobs[printed].pid > 0) print(jobs[printed]);
            ++printed;
        }
    };
    while (true) {
        while (running < width && next < jobs.size()) {
            Job& job = jobs[next++];
            if (job.done) continue;
            start(job);
            active.push_back(&job);
            ++running;
        }
        print_ready();
        if (active.empty()) break;
        std::vector<pollfd> fds;
        for (Job* job : active) fds.push_back({job->pipe_fd, POLLIN, 0});
        ::poll(fds.data(), fds.size(), 200);
        for (std::size_t i = 0; i < active.size(); ++i) {
            Job& job = *active[i];
            bool closed = false;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buffer[65536];
                const ssize_t n = ::read(job.pipe_fd, buffer, sizeof buffer);
                if (n > 0)
                    job.output.append(buffer, static_cast<std::size_t>(n));
                else
                    closed = true;
            }
            const double age = std::chrono::duration<double>(Clock::now() - job.started).count();
            const bool timed_out = !closed && age > timeout;
            if (timed_out) ::kill(job.pid, SIGKILL);
            if (closed || timed_out) {
                ::close(job.pipe_fd);
                finish(job, timed_out, timeout);
                active[i] = nullptr;
                --running;
            }
        }
        std::erase(active, nullptr);
    }
    // Summary and JSON.
    int counts[5] = {0, 0, 0, 0, 0};
    nlohmann::json scripts = nlohmann::json::array();
    for (const Job& job : jobs) {
        if (o.dry_run && job.result.outcome == Outcome::pass) continue;
        ++counts[static_cast<int>(job.result.outcome)];
        nlohmann::json item = to_json(job.result);
        item["path"] = job.path;
        item["wall_seconds"] = job.wall_seconds;
        scripts.push_back(item);
    }
    const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
    std::printf(
        "drill: %zu script(s) on %s: %d passed, %d failed, %d unsupported, %d divergent "
        "(marked), %d invalid; %.1f s\n",
        jobs.size(), o.engine.c_str(), counts[0], counts[1], counts[2], counts[4], counts[3], wall);
    if (!o.json.empty()) {
        nlohmann::json doc{{"target", o.engine},
                           {"summary",
                            {{"scripts", jobs.size()},
                             {"passed", counts[0]},
                             {"failed", counts[1]},
                             {"unsupported", counts[2]},
                             {"divergent", counts[4]},
                             {"invalid", counts[3]},
                             {"wall_seconds", wall}}},
                           {"scripts", scripts}};
        std::ofstream(o.json) << doc.dump(2) << "\n";
    }
    if (invalid > 0 || counts[3] > 0) return 2;
    if (counts[1] > 0 || (o.strict && counts[2] > 0)) return 1;
    return 0;
}

std::unique_ptr<DrillSubcommand> add_drill_subcommand(CLI::App& app) {
    auto drill = std::make_unique<DrillSubcommand>();
    drill->command = app.add_subcommand(
        "drill", "Run packetdrill scripts against tcp_utcp, tcp_classic (virtual time) or Linux");
    drill->command->add_option("SCRIPT", drill->options.scripts, "packetdrill scripts (.pkt)")
        ->required();
    drill->command->add_option("--engine", drill->options.engine,
                               "tcp_utcp (default), tcp_classic, linux");
    drill->command->add_option("--json", drill->options.json, "Write per-script results here");
    drill->command->add_option("-j,--jobs", drill->options.jobs, "Scripts run at once")
        ->check(CLI::Range(1, 256));
    drill->command->add_option(
        "--timeout", drill->options.timeout_seconds,
        "Wall-clock seconds per script before it is killed (default 120; linux 600)");
    drill->command->add_flag("--strict", drill->options.strict, "Unsupported scripts fail the run");
    drill->command->add_option("--config", drill->options.base_config,
                               "BASE.yaml: engine keys, e.g. tcp: {cc: newreno, sack: false}");
    drill->command->add_flag("--dry_run", drill->options.dry_run, "Parse the scripts, run nothing");
    drill->command->add_flag("--verbose", drill->options.verbose, "Log the stack under test");
    for (const char* name :
         {"tolerance_usecs", "tolerance_percent", "ip_version", "mtu", "local_ip", "remote_ip",
          "gateway_ip", "netmask_ip", "bind_port", "connect_port", "non_fatal"}) {
        drill->command->add_option_function<std::string>(
            std::string("--") + name,
            [o = &drill->overrides, name](const std::string& v) { (*o)[name] = v; },
            "packetdrill option (overrides the script's)");
    }
    drill->command->add_option("-D,--define", drill->defines, "NAME=VALUE: replace the word NAME");
    return drill;
}

int run_drill_subcommand(DrillSubcommand& drill, const std::vector<std::string>& plugin_path) {
    drill.options.overrides = drill.overrides;
    drill.options.plugin_path = plugin_path;
    for (const auto& d : drill.defines) {
        const auto eq = d.find('=');
        drill.options.defines[d.substr(0, eq)] = eq == std::string::npos ? "" : d.substr(eq + 1);
    }
    return command_drill(drill.options);
}

}  // namespace netloom::drill
