// The Linux reference row: iperf3 and a Python request/response loop between two namespaces
// joined by veth, each measurement a shell script run as a child (like the netloom runs).
#include "ab_linux.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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
    print("listening", flush=True)
    conn, _ = listener.accept()
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
AbChildResult shell(const std::string& dir, const std::string& name, const std::string& script) {
    const std::string path = dir + "/" + name + ".sh";
    std::ofstream(path) << "set -e\n" << script << "\n";
    return run_child({"/bin/sh", path}, dir + "/" + name + ".log", std::chrono::seconds(60));
}

nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path);
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception&) {
        return nullptr;
    }
}

}  // namespace

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
    const std::string dir = dir_template;
    const std::string a = "nlab-a-" + std::to_string(getpid());
    const std::string b = "nlab-b-" + std::to_string(getpid());
    std::ofstream(dir + "/rr.py") << kRrScript;
    const AbChildResult setup =
        shell(dir, "setup",
              "ip netns add " + a + "\nip netns add " + b + "\nip link add nlab-veth-a netns " + a +
                  " type veth peer name nlab-veth-b netns " + b + "\nip -n " + a +
                  " addr add 10.99.0.1/24 dev nlab-veth-a\nip -n " + b +
                  " addr add 10.99.0.2/24 dev nlab-veth-b\nip -n " + a +
                  " link set nlab-veth-a up\nip -n " + b + " link set nlab-veth-b up\nip -n " + a +
                  " link set lo up\nip -n " + b + " link set lo up\ncommand -v iperf3 >/dev/null");
    std::string failures;
    if (setup.exit_status != 0) {
        failures = "namespace setup or iperf3 missing: " + file_tail(dir + "/setup.log", 1);
    } else {
        for (int rep = 1; rep <= runs; ++rep) {
            for (const Mirror& m : todo) {
                const std::string name = m.workload + "-" + std::to_string(rep);
                std::string script;
                if (m.bulk) {
                    // The server is ready when its port answers; the client retries until then
                    // (bounded: 100 tries).
                    script = "ip netns exec " + b + " iperf3 -s -1 -p 5201 >/dev/null 2>&1 &\n" +
                             "for i in $(seq 100); do ip netns exec " + a +
                             " iperf3 -c 10.99.0.2 -p 5201 -J -n " + std::to_string(m.bytes) +
                             " > " + dir + "/" + name +
                             ".json 2>/dev/null && break; sleep 0.02; "
                             "done\nwait\n";
                } else {
                    const std::string args = " 10.99.0.2 5203 " + std::to_string(m.size) + " " +
                                             std::to_string(m.seconds) + " " +
                                             std::to_string(m.count);
                    script = "ip netns exec " + b + " python3 " + dir + "/rr.py server" + args +
                             " > " + dir + "/" + name + ".server &\n" +
                             "for i in $(seq 100); do grep -q listening " + dir + "/" + name +
                             ".server 2>/dev/null && break; sleep 0.02; done\n" + "ip netns exec " +
                             a + " python3 " + dir + "/rr.py client" + args + " > " + dir + "/" +
                             name + ".json\nwait\n";
                }
                std::fprintf(stderr, "[linux] %s run %d/%d ... ", m.workload.c_str(), rep, runs);
                std::fflush(stderr);
                const AbChildResult r = shell(dir, name, script);
                const nlohmann::json out = read_json_file(dir + "/" + name + ".json");
                auto& values = ref.values[m.workload];
                if (r.exit_status != 0 || !out.is_object()) {
                    failures += (failures.empty() ? "" : "; ") + name + " failed";
                    std::fprintf(stderr, "FAILED\n");
                    continue;
                }
                if (m.bulk && out.contains("end")) {
                    const auto& end = out["end"];
                    values["throughput_gbit_s"].push_back(
                        end["sum_received"].value("bits_per_second", 0.0) / 1e9);
                    values["retransmits"].push_back(end["sum_sent"].value("retransmits", 0.0));
                } else if (out.contains("metrics")) {
                    for (const auto& [metric, v] : out["metrics"].items()) {
                        if (v.is_number()) values[metric].push_back(v.get<double>());
                    }
                }
                values["cpu_seconds"].push_back(r.cpu_seconds);
                std::fprintf(stderr, "done (%.1f s)\n", r.wall_seconds);
            }
        }
    }
    shell(dir, "teardown", "ip netns del " + a + " || true\nip netns del " + b + " || true");
    std::error_code ec;
    if (failures.empty()) fs::remove_all(dir, ec);
    ref.note = failures.empty() ? "" : failures + " (files in " + dir + ")";
    return ref;
}

}  // namespace netloom::host
