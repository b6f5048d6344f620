#!/usr/bin/env bash
# TCP wire benchmark: bulk throughput and memory per idle connection, per engine, on two
# netloom stacks joined by the in-process wire (bulk.yaml, conns.yaml), and, when root, the
# Linux kernel as a reference row measured in the same run. Builds nothing.
#
# usage: bench/tcp/run.sh <build-dir> [engine...]          (default engines: tcp_utcp tcp_classic)
# environment:
#   RUNS=5            runs of each config per engine (the table shows median/min/max)
#   HASH_RUNS=1       extra bulk runs with SHA-256 on both ends (sender and receiver digests
#                     must match, or the script fails); the timed runs hash nothing, so the
#                     figure is the stacks' and not SHA-256's
#   BYTES=1GiB        bulk transfer size;  COUNT=10000  idle connections
#   LINUX=1           the Linux reference row (root only): iperf3 -n BYTES between two network
#                     namespaces over veth with every offload off, RUNS runs; LINUX=0 skips it
#   RESULTS=<path>    JSON written at the end (default: results.json beside this script)
#   PLUGIN_PATH=a:b   extra plugin directories searched before <build-dir>/plugins
#   KEEP=1            keep the per-run directory (configs, reports, stats, logs)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 ]]; then
    sed -n '2,19p' "$0" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
engines=("$@")
[[ ${#engines[@]} -eq 0 ]] && engines=(tcp_utcp tcp_classic)
runs=${RUNS:-5}
hash_runs=${HASH_RUNS:-1}
bytes=${BYTES:-1GiB}
count=${COUNT:-10000}
results=${RESULTS:-$here/results.json}

netloom=$build/netloom
if [[ ! -x $netloom ]]; then
    echo "run.sh: no netloom executable in '$build' (build the netloom target first)" >&2
    exit 1
fi
plugin_args=()
IFS=: read -r -a extra_dirs <<<"${PLUGIN_PATH:-}"
for dir in "${extra_dirs[@]}"; do [[ -n $dir ]] && plugin_args+=(--plugin-path "$dir"); done
plugin_args+=(--plugin-path "$build/plugins")

# BYTES as a byte count for iperf3 -n (iperf3 reads K/M/G as powers of 1024; netloom's units
# are spelled out, so the number is passed, not the text).
byte_count=$(python3 -c '
import re, sys
units = {"": 1, "B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "k": 10**3, "K": 10**3,
         "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9}
m = re.fullmatch(r"([0-9.]+) *([A-Za-z]*)", sys.argv[1])
value = float(m.group(1)) * units[m.group(2)] if m and m.group(2) in units else 0
if value <= 0 or value != int(value):
    sys.exit(f"run.sh: BYTES={sys.argv[1]} is not a size like 1GiB")
print(int(value))
' "$bytes")

work=$(mktemp -d /tmp/netloom_bench_tcp.XXXXXX)
[[ -n ${KEEP:-} ]] && echo "run directory: $work" >&2

# The Linux reference's two namespaces, unique to this run so parallel runs do not clash (the
# veth ends live inside them, so their names are private). Removed on every exit path, with
# any process left in them (deleting a namespace does not kill its processes).
ns_a=netloom-bench-$$-$RANDOM-a
ns_b=${ns_a%-a}-b
linux_namespaces=0
cleanup() {
    if [[ $linux_namespaces == 1 ]]; then
        for ns in "$ns_a" "$ns_b"; do
            { ip netns pids "$ns" | xargs -r kill -9; } 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        done
    fi
    if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "run directory kept: $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_one <config template> <out dir> <sed expressions...>: one netloom run; its reports and
# --stats-json land in <out dir>. A failed run stops the benchmark with its log.
run_one() {
    local template=$1 out=$2
    shift 2
    mkdir -p "$out"
    local expressions=(-e "s#@OUT@#$out#g")
    for e in "$@"; do expressions+=(-e "$e"); done
    sed "${expressions[@]}" "$template" >"$out/config.yaml"
    if ! "$netloom" "${plugin_args[@]}" run "$out/config.yaml" --no-stats \
        --stats-json "$out/stats.json" >"$out/log.txt" 2>&1; then
        echo "run.sh: run failed: $out/config.yaml" >&2
        tail -n 20 "$out/log.txt" >&2
        KEEP=1
        exit 1
    fi
}

# The Linux kernel between two namespaces over a veth pair, MTU 1500 like the wire, with
# every offload off (segmentation, receive coalescing, checksums) so the kernel handles each
# 1500-byte packet as netloom does. Returns 1 with the reason in linux_note when it cannot be
# set up. Runs in the script's shell (not a subshell): cleanup must see linux_namespaces.
linux_note=""
setup_linux() {
    [[ ${LINUX:-1} == 0 ]] && { linux_note="skipped: LINUX=0"; return 1; }
    [[ $(id -u) -eq 0 ]] ||
        { linux_note="skipped: creating network namespaces needs root"; return 1; }
    local tool
    for tool in ip ss iperf3 ethtool; do
        command -v "$tool" >/dev/null ||
            { linux_note="skipped: $tool not found (scripts/setup.sh installs it)"; return 1; }
    done
    local log=$work/linux/setup.log
    mkdir -p "$work/linux"
    linux_namespaces=1
    {
        ip netns add "$ns_a" && ip netns add "$ns_b" &&
            ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b" &&
            ip -n "$ns_a" addr add 10.99.0.1/24 dev veth-a &&
            ip -n "$ns_b" addr add 10.99.0.2/24 dev veth-b &&
            ip netns exec "$ns_a" ethtool -K veth-a tso off gso off gro off tx off rx off &&
            ip netns exec "$ns_b" ethtool -K veth-b tso off gso off gro off tx off rx off &&
            ip -n "$ns_a" link set veth-a up && ip -n "$ns_b" link set veth-b up
    } >"$log" 2>&1 ||
        { linux_note="skipped: namespace setup failed: $(tail -n 1 "$log")"; return 1; }
    # ethtool -K can leave a feature on that the driver holds fixed: check what it reports.
    local still_on
    still_on=$({ ip netns exec "$ns_a" ethtool -k veth-a; ip netns exec "$ns_b" ethtool -k veth-b; } |
        grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming): on' || true)
    [[ -z $still_on ]] ||
        { linux_note="skipped: offloads still on: ${still_on//$'\n'/; }"; return 1; }
}

# run_linux <out dir>: one iperf3 transfer of BYTES from namespace a to b; the client's JSON
# (with the server's CPU figures) lands in <out dir>/client.json. Returns 1 on a failure.
run_linux() {
    local out=$1 tries=0
    mkdir -p "$out"
    ip netns exec "$ns_b" iperf3 -s -1 -B 10.99.0.2 -p 5201 >"$out/server.log" 2>&1 &
    local server=$!
    # Ready when its socket listens (polled; the server needs a few milliseconds to start).
    until ip netns exec "$ns_b" ss -Htln 'sport = :5201' | grep -q .; do
        if ((++tries > 1000)) || ! kill -0 "$server" 2>/dev/null; then
            kill "$server" 2>/dev/null || true
            return 1
        fi
        sleep 0.01
    done
    local status=0
    # iperf3 3.12 -J exits 0 on some errors: its "error" key tells.
    timeout 600 ip netns exec "$ns_a" iperf3 -c 10.99.0.2 -p 5201 -n "$byte_count" -J \
        >"$out/client.json" 2>"$out/client.log" || status=1
    grep -q '"error"' "$out/client.json" && status=1
    # iperf3 -s -1 sometimes lingers after its test: the client's output is the result.
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    return $status
}

if setup_linux; then linux=1; else linux=0; fi
[[ $linux == 1 ]] || echo "run.sh: Linux reference row $linux_note" >&2

# Bulk runs alternate between the engines (and Linux): each repetition starts with the next
# one, so none always runs first or last while the machine's load drifts.
bulk_rows=("${engines[@]}")
[[ $linux == 1 ]] && bulk_rows+=(linux)
for ((i = 1; i <= runs; i++)); do
    for ((k = 0; k < ${#bulk_rows[@]}; k++)); do
        row=${bulk_rows[(k + i - 1) % ${#bulk_rows[@]}]}
        if [[ $row == linux ]]; then
            [[ $linux == 1 ]] || continue
            echo "[linux] bulk run $i/$runs ($bytes, iperf3 over veth)" >&2
            if ! run_linux "$work/linux/bulk/$i"; then
                linux=0
                linux_note="failed: run $i (iperf3 output kept in $work/linux/bulk/$i)"
                echo "run.sh: Linux reference row $linux_note" >&2
                KEEP=1
            fi
            continue
        fi
        echo "[$row] bulk run $i/$runs ($bytes)" >&2
        run_one "$here/bulk.yaml" "$work/$row/bulk/$i" "s/@ENGINE@/$row/g" \
            "s/@BYTES@/$bytes/g" "s/@HASH@/false/g"
    done
done
for engine in "${engines[@]}"; do
    for ((i = 1; i <= hash_runs; i++)); do
        echo "[$engine] bulk run with sha256 $i/$hash_runs" >&2
        run_one "$here/bulk.yaml" "$work/$engine/bulk_sha256/$i" "s/@ENGINE@/$engine/g" \
            "s/@BYTES@/$bytes/g" "s/@HASH@/true/g"
    done
    for ((i = 1; i <= runs; i++)); do
        echo "[$engine] idle connections run $i/$runs ($count)" >&2
        run_one "$here/conns.yaml" "$work/$engine/conns/$i" "s/@ENGINE@/$engine/g" \
            "s/@COUNT@/$count/g"
    done
done

LINUX_NOTE=$linux_note python3 - "$work" "$results" "$bytes" "$count" "${engines[@]}" <<'PY'
import json
import os
import statistics
import sys

work, results_path, size_text, count, engines = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]


def load(path):
    with open(path) as f:
        return json.load(f)


def runs_of(engine, kind):
    base = os.path.join(work, engine, kind)
    if not os.path.isdir(base):
        return []
    return [os.path.join(base, d) for d in sorted(os.listdir(base), key=int)]


def spread(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def number_at(j, *path):
    """The number at `path` below `j`, or None (iperf3 -J prints "end": {} on an error)."""
    for key in path:
        if not isinstance(j, dict) or key not in j:
            return None
        j = j[key]
    return j if isinstance(j, (int, float)) else None


def linux_run(run):
    """One iperf3 transfer: throughput from the receiver's side, and the CPU time of both
    iperf3 processes (user + system) over the transfer: iperf3 reports each one's
    cpu_utilization_percent (host_total: the client, remote_total: the server) over its test
    interval, multiplied here by that interval (sum_sent / sum_received seconds)."""
    try:
        out = load(f"{run}/client.json")
    except (OSError, ValueError):
        return None
    bits = number_at(out, "end", "sum_received", "bits_per_second")
    received = number_at(out, "end", "sum_received", "bytes")
    sent_s = number_at(out, "end", "sum_sent", "seconds")
    received_s = number_at(out, "end", "sum_received", "seconds")
    client_pct = number_at(out, "end", "cpu_utilization_percent", "host_total")
    server_pct = number_at(out, "end", "cpu_utilization_percent", "remote_total")
    if None in (bits, received, sent_s, received_s, client_pct, server_pct) or received <= 0:
        return None
    cpu = (client_pct * sent_s + server_pct * received_s) / 100
    return {
        "gbit_per_s": bits / 1e9,
        "seconds": received_s,
        "cpu_seconds": cpu,
        "cpu_seconds_per_gib": cpu / (received / 2**30),
        "client_cpu_percent": client_pct,
        "server_cpu_percent": server_pct,
        "retransmits": number_at(out, "end", "sum_sent", "retransmits") or 0,
    }


linux_runs = [r for r in map(linux_run, runs_of("linux", "bulk")) if r]
linux = {
    "what": "Linux kernel, iperf3 -n BYTES between two network namespaces over veth, MTU 1500, "
            "ethtool -K tso/gso/gro/tx/rx off on both ends",
    "note": os.environ.get("LINUX_NOTE") or None,
    "gbit_per_s": spread([r["gbit_per_s"] for r in linux_runs]),
    "cpu_seconds_per_gib": spread([r["cpu_seconds_per_gib"] for r in linux_runs]),
    "bulk_runs": linux_runs,
}

summary = {"bytes": size_text, "idle_connections": count, "engines": {},
           "linux_reference": linux}
for engine in engines:
    bulk = []
    for run in runs_of(engine, "bulk"):
        sender, receiver = load(f"{run}/sender.json"), load(f"{run}/receiver.json")
        if sender["error"] or receiver["error"] or sender["bytes"] != receiver["bytes"]:
            sys.exit(f"run.sh: bulk run {run} failed: {sender['error'] or receiver['error']}")
        stats = load(f"{run}/stats.json")
        gib = receiver["bytes"] / 2**30
        bulk.append({
            "gbit_per_s": receiver["gbit_per_s"],
            "seconds": receiver["seconds"],
            "cpu_seconds": sender["cpu_seconds"],
            "cpu_seconds_per_gib": sender["cpu_seconds"] / gib,
            "retransmits": sender["retransmits"],
            "client_tcp": stats.get("client/tcp", {}),
            "server_tcp": stats.get("server/tcp", {}),
        })
    hashed = []
    for run in runs_of(engine, "bulk_sha256"):
        sender, receiver = load(f"{run}/sender.json"), load(f"{run}/receiver.json")
        if sender["sha256"] != receiver["sha256"] or sender["bytes"] != receiver["bytes"]:
            sys.exit(f"run.sh: {run}: sender and receiver disagree: "
                     f"{sender['bytes']} bytes {sender['sha256']} vs "
                     f"{receiver['bytes']} bytes {receiver['sha256']}")
        hashed.append({"gbit_per_s": receiver["gbit_per_s"], "sha256": receiver["sha256"],
                       "cpu_seconds": sender["cpu_seconds"]})
    conns = []
    for run in runs_of(engine, "conns"):
        report = load(f"{run}/conns.json")
        if report["error"]:
            sys.exit(f"run.sh: idle connections run {run} failed: {report['error']}")
        conns.append({
            "engine_bytes_per_connection": report["engine_bytes_per_connection"],
            "heap_bytes_per_connection": report["heap_bytes_per_connection"],
            "establish_seconds": report["establish_seconds"],
        })
    summary["engines"][engine] = {
        "gbit_per_s": spread([r["gbit_per_s"] for r in bulk]),
        "cpu_seconds_per_gib": spread([r["cpu_seconds_per_gib"] for r in bulk]),
        "gbit_per_s_with_sha256": spread([r["gbit_per_s"] for r in hashed]),
        "sha256": hashed[0]["sha256"] if hashed else None,
        "idle_engine_bytes_per_connection": spread(
            [r["engine_bytes_per_connection"] for r in conns]),
        "idle_heap_bytes_per_connection_pair": spread(
            [r["heap_bytes_per_connection"] for r in conns]),
        "bulk_runs": bulk,
        "sha256_runs": hashed,
        "conns_runs": conns,
    }
    # Engine median over Linux median: above 1 the engine is faster, resp. uses more CPU.
    e = summary["engines"][engine]
    e["ratio_to_linux"] = {
        key: e[key]["median"] / linux[key]["median"] if e[key] and linux[key] else None
        for key in ("gbit_per_s", "cpu_seconds_per_gib")
    }

with open(results_path + ".partial", "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
os.replace(results_path + ".partial", results_path)


def cell(value, fmt):
    return format(value, fmt) if value is not None else "-"


print(f"TCP over the in-process wire, MTU 1500, one core; bulk {size_text} x {len(bulk)} runs, "
      f"{count} idle connections x {len(conns)} runs")
header = (f"{'engine':<12}{'Gbit/s med':>11}{'min':>7}{'max':>7}{'CPU s/GiB':>11}"
          f"{'Gbit/s+sha':>11}{'B/idle conn':>12}{'heap B/pair':>12}"
          f"{'Gbit/s/Linux':>13}{'CPU/Linux':>10}")
print(header)
print("-" * len(header))
for engine, e in summary["engines"].items():
    g, c, h = e["gbit_per_s"], e["cpu_seconds_per_gib"], e["gbit_per_s_with_sha256"]
    m, p = e["idle_engine_bytes_per_connection"], e["idle_heap_bytes_per_connection_pair"]
    r = e["ratio_to_linux"]
    print(f"{engine:<12}{cell(g and g['median'], '.2f'):>11}{cell(g and g['min'], '.2f'):>7}"
          f"{cell(g and g['max'], '.2f'):>7}{cell(c and c['median'], '.3f'):>11}"
          f"{cell(h and h['median'], '.2f'):>11}{cell(m and m['median'], '.0f'):>12}"
          f"{cell(p and p['median'], '.0f'):>12}{cell(r['gbit_per_s'], '.2f'):>13}"
          f"{cell(r['cpu_seconds_per_gib'], '.2f'):>10}")
g, c = linux["gbit_per_s"], linux["cpu_seconds_per_gib"]
if g:
    print(f"{'linux veth':<12}{g['median']:>11.2f}{g['min']:>7.2f}{g['max']:>7.2f}"
          f"{cell(c and c['median'], '.3f'):>11}{'-':>11}{'-':>12}{'-':>12}{'1.00':>13}"
          f"{'1.00' if c else '-':>10}")
    print(f"linux veth: iperf3 -n {size_text} between two network namespaces over veth, "
          f"offloads off, {len(linux_runs)} runs; CPU = both iperf3 processes' user + system")
if linux["note"]:
    print(f"Linux reference row: {linux['note']}")
print(f"results: {results_path}")
PY
