// The Linux reference row: iperf3 and a Python request/response loop between two namespaces
// joined by veth, each measurement a shell script run as a child (like the netloom runs).
#include "ab_linux.hpp"

#include <unistd.h>

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

// The rr loop: the server echoes `size`-byte messages; the client sends one, waits for the
// whole echo, and records the round trip, for `seconds` or `count` transactions.
const char* kRrScript = R"PY(import json, socket, sys, time
role, address, port, size, seconds, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
if role == "server":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    listener.settimeout(30)  # a client that never comes does not keep the server
    print("listening", flush=True)
    conn, _ = listener.accept()
    conn.settimeout(None)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        message = recv_exactly(conn, size)
        if message is None:
            break
        conn.sendall(message)
    sys.exit(0)
conn = socket.create_connection((address, port), timeout=10)
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
payload = b"x" * size
latencies = []
start = time.perf_counter()
while (count and len(latencies) < count) or (not count and time.perf_counter() - start < seconds):
    t0 = time.perf_counter()
    conn.sendall(payload)
    if recv_exactly(conn, size) is None:
        sys.exit("server closed early")
    latencies.append((time.perf_counter() - t0) * 1e6)
elapsed = time.perf_counter() - start
conn.close()
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(json.dumps({"metrics": {"rr_per_s": len(latencies) / elapsed, "latency_p50_us": pick(0.5), "latency_p99_us": pick(0.99)}}))
)PY";

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
std::string measurement_script(const Mirror& m, const std::string& dir, const std::string& out,
                               const std::string& a, const std::string& b, long long limit_s) {
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
        server = "python3 " + shell_quote(dir + "/rr.py") + " server" + args + " > " + ready;
        // The readiness check reads a file (any namespace); the client itself runs in a.
        client = "grep -q listening " + ready + " 2>/dev/null && " + in_a + "python3 " +
                 shell_quote(dir + "/rr.py") + " client" + args + " > " + shell_quote(out);
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
    const std::vector<Mirror> todo = mirrors(plan);
    if (todo.empty()) {
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
    std::ofstream(dir + "/rr.py") << kRrScript;
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
                    shell(dir, name, measurement_script(m, dir, out, a, b, limit_s - 5),
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
    return ref;
}

}  // namespace netloom::host
