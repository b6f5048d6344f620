// Running one measurement in a child process and reading what it wrote.
#include "ab_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>

extern char** environ;

namespace netloom::host {
namespace {

double seconds_of(const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

volatile std::sig_atomic_t g_interrupted = 0;

// True while `pid` is our child, running or a zombie (not reaped by anyone).
bool not_reaped(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// True once `pid` has exited (it stays a zombie: WNOWAIT leaves the reaping to wait4).
bool has_exited(pid_t pid) {
    siginfo_t info{};
    for (;;) {
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0)
            return info.si_pid == pid;
        if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
    }
}

// Waits for `pid` to exit for at most `timeout`, without reaping it; false on timeout or,
// when `interruptible`, once ab_interrupted(). pidfd_open (Linux 5.3) lets poll() wait on the
// process; without it, waitid(WNOHANG) every 10 ms. Either way the wait is in slices of at most
// 100 ms so an interruption is seen even when its signal landed just before poll().
bool wait_exit(pid_t pid, std::chrono::nanoseconds timeout, bool interruptible) {
    int fd = -1;
#ifdef SYS_pidfd_open
    fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#endif
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool exited = false;
    for (;;) {
        if (has_exited(pid)) {
            exited = true;
            break;
        }
        if (interruptible && ab_interrupted()) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        if (fd >= 0) {
            pollfd p{fd, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
        } else {
            ::usleep(static_cast<useconds_t>(std::min<long long>(left.count(), 10)) * 1000);
        }
    }
    if (fd >= 0) ::close(fd);
    return exited;
}

nlohmann::json read_json(const std::string& path, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "missing " + path;
        return nullptr;
    }
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        error = "malformed JSON in " + path + ": " + e.what();
        return nullptr;
    }
}

}  // namespace

void set_ab_interrupted() noexcept {
    g_interrupted = 1;
}
bool ab_interrupted() noexcept {
    return g_interrupted != 0;
}
void clear_ab_interrupted() noexcept {
    g_interrupted = 0;
}

AbChildResult run_child(const std::vector<std::string>& argv, const std::string& log_path,
                        std::chrono::nanoseconds timeout, bool interruptible) {
    AbChildResult result;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Its own process group: whatever it starts (a shell's background server) is killed with
    // it. The child's signal dispositions start from the default, whatever ours are.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t reset;
    sigemptyset(&reset);
    for (int sig : {SIGCHLD, SIGPIPE, SIGINT, SIGTERM}) sigaddset(&reset, sig);
    posix_spawnattr_setsigdefault(&attr, &reset);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    const int error = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (error != 0) {
        result.spawn_error = "cannot start " + argv[0] + ": " + std::strerror(error);
        return result;
    }
    if (!wait_exit(pid, timeout, interruptible)) {
        result.timed_out = !(interruptible && ab_interrupted());
        result.interrupted = !result.timed_out;
    }
    // While the leader is not reaped its group id cannot be reused: end the whole group (the
    // leader itself on a timeout, anything it left running in every case).
    if (not_reaped(pid)) ::kill(-pid, SIGKILL);
    int status = 0;
    rusage usage{};
    pid_t waited;
    while ((waited = ::wait4(pid, &status, 0, &usage)) < 0 && errno == EINTR) {
    }
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited != pid) {
        // ECHILD: someone reaped it (SIGCHLD ignored); its status is unknown, so not a success.
        result.spawn_error = "cannot wait for " + argv[0] + ": " + std::strerror(errno);
        return result;
    }
    result.cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
    if (WIFEXITED(status)) {
        result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.exit_status = 128 + result.signal;
    }
    return result;
}

std::string file_safe(const std::string& name) {
    std::string out = name;
    for (char& c : out) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            c = '_';
    }
    return out;
}

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string file_tail(const std::string& path, std::size_t lines) {
    std::ifstream in(path);
    std::deque<std::string> last;
    for (std::string line; std::getline(in, line);) {
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    std::string out;
    for (const auto& l : last) out += l + "\n";
    return out;
}

std::string first_error_line(const std::string& path) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        // A colour sink on a terminal wraps the level in escapes; a file normally has none.
        for (std::size_t esc; (esc = line.find('\x1b')) != std::string::npos;) {
            const std::size_t end = line.find('m', esc);
            line.erase(esc, end == std::string::npos ? std::string::npos : end - esc + 1);
        }
        // The host's own complaints ("netloom: error: ...", "netloom: uncaught exception in a
        // task: ...", "netloom: fatal: ...") carry no time stamp; its notes are not errors.
        if (line.rfind("netloom: ", 0) == 0 && line.rfind("netloom: note", 0) != 0) return line;
        // "12:34:56.789 error [rr] text": the time stamp, the level padded to 5, the text.
        const std::size_t stamp_end = line.find(' ');
        if (stamp_end == std::string::npos || stamp_end == 0) continue;
        if (line.find_first_not_of("0123456789:.", 0) != stamp_end) continue;
        const std::size_t level_start = line.find_first_not_of(' ', stamp_end);
        if (level_start == std::string::npos) continue;
        const std::size_t level_end = line.find(' ', level_start);
        if (level_end == std::string::npos) continue;
        const std::string level = line.substr(level_start, level_end - level_start);
        if (level != "error" && level != "critical") continue;
        const std::size_t text = line.find_first_not_of(' ', level_end);
        if (text != std::string::npos) return line.substr(text);
    }
    return {};
}

AbRunOutcome collect_run(const AbChildResult& child, const std::vector<AbReportSlot>& reports,
                         const std::string& stats_path, const std::string& log_path) {
    AbRunOutcome out;
    if (!child.spawn_error.empty()) {
        out.failure = child.spawn_error;
        return out;
    }
    // How the child ended when that was not a clean exit. On its own it does not say why: the
    // reason is looked for in the reports, then in the log (see the header).
    std::string ended;
    if (child.timed_out) {
        ended = "killed after the timeout (ab.timeout)";
    } else if (child.interrupted) {
        ended = "interrupted";
    } else if (child.signal != 0) {
        ended = "killed by signal " + std::to_string(child.signal) + " (" +
                ::strsignal(child.signal) + ")";
    } else if (child.exit_status != 0) {
        ended = "exit status " + std::to_string(child.exit_status);
    }
    std::string app_error;       // the first app that said it failed, and why
    std::string report_missing;  // the first report that is missing or unreadable
    std::map<std::string, std::pair<double, int>> sums;  // metric -> (sum, count)
    for (const AbReportSlot& slot : reports) {
        std::string error;
        const nlohmann::json report = read_json(slot.path, error);
        if (!error.empty()) {
            if (report_missing.empty()) report_missing = slot.app + ": " + error;
            continue;
        }
        if (report.contains("ok") && report["ok"].is_boolean() && !report["ok"].get<bool>() &&
            app_error.empty()) {
            const auto& e = report.value("error", nlohmann::json(nullptr));
            app_error =
                slot.app + " failed: " + (e.is_string() ? e.get<std::string>() : "(no reason)");
        }
        if (report.contains("metrics") && report["metrics"].is_object()) {
            for (const auto& [name, value] : report["metrics"].items()) {
                if (!value.is_number()) continue;
                const double v = value.get<double>();
                if (!std::isfinite(v)) continue;
                sums[name].first += v;
                sums[name].second += 1;
            }
        }
        if (out.timeline.is_null() && report.contains("timeline") &&
            report["timeline"].is_array()) {
            out.timeline = report["timeline"];
        }
    }
    for (const auto& [name, sum] : sums) out.metrics[name] = sum.first / sum.second;
    std::string error;
    const nlohmann::json stats = read_json(stats_path, error);
    if (error.empty() && stats.is_object()) {
        double retransmits = 0;
        for (const auto& [component, counters] : stats.items()) {
            const bool tcp =
                component.size() >= 4 && component.compare(component.size() - 4, 4, "/tcp") == 0;
            if (tcp && counters.is_object() && counters.contains("retransmits") &&
                counters["retransmits"].is_number()) {
                retransmits += counters["retransmits"].get<double>();
            }
        }
        out.metrics["retransmits"] = retransmits;
        error.clear();
    } else if (error.empty()) {
        error = "stats.json is not an object";
    }
    out.metrics["cpu_seconds"] = child.cpu_seconds;
    if (!app_error.empty()) {
        out.failure = app_error + (ended.empty() ? "" : " (" + ended + ")");
    } else if (!ended.empty()) {
        // An app that failed without a report (a server) or the host itself logs why.
        std::string why = first_error_line(log_path);
        if (why.empty() && !child.timed_out && !child.interrupted && child.signal == 0) {
            why = file_tail(log_path, 1);
            if (!why.empty() && why.back() == '\n') why.pop_back();
            if (!why.empty()) why = "no error logged; last line: " + why;
        }
        out.failure = ended + (why.empty() ? "" : ": " + why);
    } else if (!report_missing.empty()) {
        out.failure = report_missing;
    } else if (!error.empty()) {
        out.failure = error;  // stats.json missing after a clean exit
    }
    return out;
}

}  // namespace netloom::host
