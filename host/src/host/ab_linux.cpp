// The Linux reference row: iperf3 and a Python request/response loop (ab_linux_rr.py) between
// two namespaces joined by veth, each measurement a shell script run as a child (like the
// netloom runs).
#include "ab_linux.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>

#include "ab_child.hpp"

namespace netloom::host {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRrScriptName = "ab_linux_rr.py";

// The rr loop's program (ab_linux_rr.py): installed in <prefix>/lib/netloom beside
// <prefix>/bin/netloom, copied beside the executable in the build tree. Empty when neither has it;
// `looked` lists where it was sought.
std::string find_rr_script(std::string& looked) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        looked = "(cannot read /proc/self/exe)";
        return {};
    }
    const fs::path dir = self.parent_path();
    for (const fs::path& candidate :
         {dir.parent_path() / "lib" / "netloom" / kRrScriptName, dir / kRrScriptName}) {
        looked += (looked.empty() ? "" : ", ") + candidate.string();
        if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    return {};
}

struct Mirror {
    std::string workload;
    bool bulk = false;  // else rr
    std::uint64_t bytes = 0;
    std::uint64_t size = 64, count = 0;
    double seconds = 1;
};

YAML::Node client_app(const AbWorkload& w) {
    for (auto stack = w.apps_by_stack.begin(); stack != w.apps_by_stack.end(); ++stack) {
        const YAML::Node apps = stack->second;  // a named copy: the iterator's is temporary
        if (!apps.IsSequence()) continue;
        for (const auto& app : apps) {
            if (app["role"] && app["role"].as<std::string>() == "client") return app;
        }
    }
    return YAML::Node();
}

std::vector<Mirror> mirrors(const AbPlan& plan) {
    std::vector<Mirror> out;
    for (const auto& w : plan.workloads) {
        if (!w.unavailable.empty()) continue;  // no netloom row to compare with
        const YAML::Node app = client_app(w);
        if (!app.IsMap() || !app["use"]) continue;
        const std::string use = app["use"].as<std::string>();
        Mirror m;
        m.workload = w.name;
        if (use == "tcp_bulk" && app["bytes"] && app["direction"] &&
            app["direction"].as<std::string>() == "send") {
            auto bytes = parse_size(app["bytes"].as<std::string>());
            if (!bytes) continue;
            m.bulk = true;
            m.bytes = *bytes;
        } else if (use == "rr" && (!app["mode"] || app["mode"].as<std::string>() == "rr")) {
            if (app["size"]) m.size = parse_size(app["size"].as<std::string>()).value_or(64);
            if (app["transactions"]) {
                m.count = parse_size(app["transactions"].as<std::string>()).value_or(0);
            }
            if (app["duration"]) {
                auto d = parse_duration(app["duration"].as<std::string>());
                if (d) m.seconds = std::chrono::duration<double>(*d).count();
            }
        } else {
            continue;
        }
        out.push_back(m);
    }
    return out;
}

// Runs `script` with /bin/sh in `dir`; returns the child result (output in dir/<name>.log).
// `name` is file-safe.
AbChildResult shell(const std::string& dir, const std::string& name, const std::string& script,
                    std::chrono::seconds limit, bool interruptible = true) {
    const std::string path = dir + "/" + name + ".sh";
    std::ofstream(path) << "set -e\n" << script << "\n";
    return run_child({"/bin/sh", path}, dir + "/" + name + ".log", limit, interruptible);
}

nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path);
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception&) {
        return nullptr;
    }
}

// A number at `path` below `j`, or nullopt (a missing key, a non-object on the way, a string).
std::optional<double> number_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* at = &j;
    for (const char* key : path) {
        if (!at->is_object()) return std::nullopt;
        auto it = at->find(key);
        if (it == at->end()) return std::nullopt;
        at = &*it;
    }
    if (!at->is_number()) return std::nullopt;
    return at->get<double>();
}

// The namespaces and the directory of one measurement, removed at every exit path: the
// processes still in the namespaces are killed first (deleting a namespace does not kill
// them). The directory stays when `keep_dir` is set (failures, for reading).
struct LinuxScratch {
    std::string dir, a, b;
    bool keep_dir = false;
    ~LinuxScratch() {
        try {
            std::string script;
            for (const std::string& ns : {a, b}) {
                script += "ip netns pids " + ns + " 2>/dev/null | xargs -r kill -9 || true\n" +
                          "ip netns del " + ns + " 2>/dev/null || true\n";
            }
            shell(dir, "teardown", script, std::chrono::seconds(10), false);
        } catch (const std::exception&) {  // a destructor must not throw: best effort
        }
        std::error_code ec;
        if (!keep_dir) fs::remove_all(dir, ec);
    }
};

// The shell script of one measurement: a server in namespace b (bounded by `timeout`, in the
// foreground mode so it stays in the script's process group), then the client in namespace
// a writing `out`; the client's output is the result, so the server is stopped once the client
// is done (iperf3 -s -1 sometimes lingers after its test). Every path is quoted.
std::string measurement_script(const Mirror& m, const std::string& rr_script,
                               const std::string& out, const std::string& a, const std::string& b,
                               long long limit_s) {
    const std::string bound = "timeout --foreground " + std::to_string(limit_s) + " ";
    // Only the programs run inside the namespaces: a `ip netns exec a x && y` would run y
    // outside (the rr client once ran in the root namespace and never reached the server).
    const std::string in_a = "ip netns exec " + a + " " + bound;
    std::string server, client;
    if (m.bulk) {
        // The client retries until the server's port answers (bounded: 100 tries). iperf3
        // 3.12 -J exits 0 even when the connection was refused: its "error" key tells.
        server = "iperf3 -s -1 -p 5201 >/dev/null 2>&1";
        client = in_a + "iperf3 -c 10.99.0.2 -p 5201 -J -n " + std::to_string(m.bytes) + " > " +
                 shell_quote(out) + " 2>/dev/null && ! grep -q '\"error\"' " + shell_quote(out);
    } else {
        const std::string args = " 10.99.0.2 5203 " + std::to_string(m.size) + " " +
                                 std::to_string(m.seconds) + " " + std::to_string(m.count);
        const std::string ready = shell_quote(out + ".server");
        server = "python3 " + shell_quote(rr_script) + " server" + args + " > " + ready;
        // The readiness check reads a file (any namespace); the client itself runs in a.
        client = "grep -q listening " + ready + " 2>/dev/null && " + in_a + "python3 " +
                 shell_quote(rr_script) + " client" + args + " > " + shell_quote(out);
    }
    return "ip netns exec " + b + " " + bound + server + " &\nserver=$!\nstatus=1\n" +
           "for i in $(seq 100); do\n  if " + client +
           "; then status=0; break; fi\n  sleep 0.02\ndone\n" +
           "kill $server 2>/dev/null || true\nwait $server || true\nexit $status\n";
}

}  // namespace

std::optional<std::map<std::string, double>> linux_run_values(const nlohmann::json& out,
                                                              bool bulk) {
    std::map<std::string, double> values;
    if (bulk) {
        const auto bits = number_at(out, {"end", "sum_received", "bits_per_second"});
        if (!bits || !std::isfinite(*bits)) return std::nullopt;
        values["throughput_gbit_s"] = *bits / 1e9;
        values["retransmits"] = number_at(out, {"end", "sum_sent", "retransmits"}).value_or(0);
        return values;
    }
    if (!out.is_object() || !out.contains("metrics") || !out["metrics"].is_object())
        return std::nullopt;
    for (const auto& [metric, v] : out["metrics"].items()) {
        if (v.is_number() && std::isfinite(v.get<double>())) values[metric] = v.get<double>();
    }
    if (values.empty()) return std::nullopt;
    return values;
}

nlohmann::json LinuxReference::to_json() const {
    nlohmann::json j{{"values", values}};
    j["note"] = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
    return j;
}

LinuxReference measure_linux_reference(const AbPlan& plan, int runs) {
    LinuxReference ref;
    if (geteuid() != 0) {
        ref.note = "skipped: creating network namespaces needs root";
        return ref;
    }
    std::vector<Mirror> todo = mirrors(plan);
    std::string looked;
    const std::string rr_script = find_rr_script(looked);
    std::string skipped;  // workloads left out for want of the rr program
    if (rr_script.empty() &&
        std::any_of(todo.begin(), todo.end(), [](const Mirror& m) { return !m.bulk; })) {
        skipped = std::string("rr workloads skipped: ") + kRrScriptName + " not found (looked in " +
                  looked + ")";
        std::erase_if(todo, [](const Mirror& m) { return !m.bulk; });
    }
    if (todo.empty()) {
        if (!skipped.empty()) {
            ref.note = "skipped: " + skipped;
            return ref;
        }
        ref.note = "skipped: no workload with a tcp_bulk sender or an rr client in rr mode";
        return ref;
    }
    char dir_template[] = "/tmp/netloom-ab-linux-XXXXXX";
    if (!mkdtemp(dir_template)) {
        ref.note = "skipped: cannot create a temporary directory";
        return ref;
    }
    LinuxScratch scratch{dir_template, "nlab-a-" + std::to_string(getpid()),
                         "nlab-b-" + std::to_string(getpid())};
    const std::string& dir = scratch.dir;
    const std::string& a = scratch.a;
    const std::string& b = scratch.b;
    const AbChildResult setup =
        shell(dir, "setup",
              "ip netns add " + a + "\nip netns add " + b + "\nip link add nlab-veth-a netns " + a +
                  " type veth peer name nlab-veth-b netns " + b + "\nip -n " + a +
                  " addr add 10.99.0.1/24 dev nlab-veth-a\nip -n " + b +
                  " addr add 10.99.0.2/24 dev nlab-veth-b\nip -n " + a +
                  " link set nlab-veth-a up\nip -n " + b + " link set nlab-veth-b up\nip -n " + a +
                  " link set lo up\nip -n " + b + " link set lo up\ncommand -v iperf3 >/dev/null",
              std::chrono::seconds(30));
    std::string failures;
    if (setup.exit_status != 0) {
        failures = "namespace setup or iperf3 missing: " + file_tail(dir + "/setup.log", 1);
    } else {
        for (int rep = 1; rep <= runs && !ab_interrupted(); ++rep) {
            for (std::size_t i = 0; i < todo.size() && !ab_interrupted(); ++i) {
                const Mirror& m = todo[i];
                // File names from the workload's name, made safe, numbered against collisions.
                const std::string name = "w" + std::to_string(i + 1) + "-" + file_safe(m.workload) +
                                         "-" + std::to_string(rep);
                const std::string out = dir + "/" + name + ".json";
                const long long limit_s = 60 + static_cast<long long>(m.seconds);
                std::fprintf(stderr, "[linux] %s run %d/%d ... ", m.workload.c_str(), rep, runs);
                std::fflush(stderr);
                const AbChildResult r =
                    shell(dir, name, measurement_script(m, rr_script, out, a, b, limit_s - 5),
                          std::chrono::seconds(limit_s));
                const auto got = r.exit_status == 0 && r.spawn_error.empty()
                                     ? linux_run_values(read_json_file(out), m.bulk)
                                     : std::nullopt;
                if (!got) {
                    failures +=
                        (failures.empty() ? "" : "; ") + name +
                        (r.timed_out     ? " timed out"
                         : r.interrupted ? " interrupted"
                         : !r.spawn_error.empty()
                             ? " failed: " + r.spawn_error
                             : " failed (exit status " + std::to_string(r.exit_status) + ")");
                    std::fprintf(stderr, "FAILED\n");
                    continue;
                }
                auto& values = ref.values[m.workload];
                for (const auto& [metric, v] : *got) values[metric].push_back(v);
                values["cpu_seconds"].push_back(r.cpu_seconds);
                std::fprintf(stderr, "done (%.1f s)\n", r.wall_seconds);
            }
        }
    }
    scratch.keep_dir = !failures.empty() && !ab_interrupted();
    if (ab_interrupted()) {
        ref.note = "interrupted";
    } else if (!failures.empty()) {
        ref.note = failures + " (files in " + dir + ")";
    }
    if (!skipped.empty()) ref.note += (ref.note.empty() ? "" : "; ") + skipped;
    return ref;
}

}  // namespace netloom::host
