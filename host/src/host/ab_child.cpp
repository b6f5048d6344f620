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
        result.exit_status = 128 + WTERMSIG(status);
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

AbRunOutcome collect_run(const AbChildResult& child, const std::vector<AbReportSlot>& reports,
                         const std::string& stats_path, const std::string& log_path) {
    AbRunOutcome out;
    auto fail = [&](const std::string& why) {
        if (out.failure.empty()) out.failure = why;
    };
    if (!child.spawn_error.empty()) {
        out.failure = child.spawn_error;
        return out;
    }
    if (child.timed_out) fail("killed after the timeout (ab.timeout)");
    if (child.interrupted) fail("interrupted");
    if (child.exit_status != 0) {
        std::string tail = file_tail(log_path, 1);
        if (!tail.empty() && tail.back() == '\n') tail.pop_back();
        fail("exit status " + std::to_string(child.exit_status) +
             (tail.empty() ? "" : " (last line: " + tail + ")"));
    }
    std::map<std::string, std::pair<double, int>> sums;  // metric -> (sum, count)
    for (const AbReportSlot& slot : reports) {
        std::string error;
        const nlohmann::json report = read_json(slot.path, error);
        if (!error.empty()) {
            fail(slot.app + ": " + error);
            continue;
        }
        if (report.contains("ok") && report["ok"].is_boolean() && !report["ok"].get<bool>()) {
            const auto& e = report.value("error", nlohmann::json(nullptr));
            fail(slot.app + " failed: " + (e.is_string() ? e.get<std::string>() : "(no reason)"));
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
    } else if (child.exit_status == 0) {
        fail(error.empty() ? "stats.json is not an object" : error);
    }
    out.metrics["cpu_seconds"] = child.cpu_seconds;
    return out;
}

}  // namespace netloom::host
