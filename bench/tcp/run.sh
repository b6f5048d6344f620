#!/usr/bin/env bash
# TCP wire benchmark: bulk throughput and memory per idle connection, per engine, on two
# netloom stacks joined by the in-process wire (bulk.yaml, conns.yaml). Builds nothing.
#
# usage: bench/tcp/run.sh <build-dir> [engine...]          (default engines: tcp_utcp tcp_classic)
# environment:
#   RUNS=5            runs of each config per engine (the table shows median/min/max)
#   HASH_RUNS=1       extra bulk runs with SHA-256 on both ends (sender and receiver digests
#                     must match, or the script fails); the timed runs hash nothing, so the
#                     figure is the stacks' and not SHA-256's
#   BYTES=1GiB        bulk transfer size;  COUNT=10000  idle connections
#   RESULTS=<path>    JSON written at the end (default: results.json beside this script)
#   PLUGIN_PATH=a:b   extra plugin directories searched before <build-dir>/plugins
#   KEEP=1            keep the per-run directory (configs, reports, stats, logs)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 ]]; then
    sed -n '2,16p' "$0" >&2
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

work=$(mktemp -d /tmp/netloom_bench_tcp.XXXXXX)
if [[ -z ${KEEP:-} ]]; then trap 'rm -rf "$work"' EXIT; else echo "run directory: $work" >&2; fi

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
        trap - EXIT
        echo "run directory kept: $work" >&2
        exit 1
    fi
}

for engine in "${engines[@]}"; do
    for ((i = 1; i <= runs; i++)); do
        echo "[$engine] bulk run $i/$runs ($bytes)" >&2
        run_one "$here/bulk.yaml" "$work/$engine/bulk/$i" "s/@ENGINE@/$engine/g" \
            "s/@BYTES@/$bytes/g" "s/@HASH@/false/g"
    done
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

python3 - "$work" "$results" "$bytes" "$count" "${engines[@]}" <<'PY'
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


summary = {"bytes": size_text, "idle_connections": count, "engines": {}}
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

with open(results_path + ".partial", "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
os.replace(results_path + ".partial", results_path)


def cell(value, fmt):
    return format(value, fmt) if value is not None else "-"


print(f"TCP over the in-process wire, MTU 1500, one core; bulk {size_text} x {len(bulk)} runs, "
      f"{count} idle connections x {len(conns)} runs")
header = (f"{'engine':<12}{'Gbit/s med':>11}{'min':>7}{'max':>7}{'CPU s/GiB':>11}"
          f"{'Gbit/s+sha':>11}{'B/idle conn':>12}{'heap B/pair':>12}")
print(header)
print("-" * len(header))
for engine, e in summary["engines"].items():
    g, c, h = e["gbit_per_s"], e["cpu_seconds_per_gib"], e["gbit_per_s_with_sha256"]
    m, p = e["idle_engine_bytes_per_connection"], e["idle_heap_bytes_per_connection_pair"]
    print(f"{engine:<12}{cell(g and g['median'], '.2f'):>11}{cell(g and g['min'], '.2f'):>7}"
          f"{cell(g and g['max'], '.2f'):>7}{cell(c and c['median'], '.3f'):>11}"
          f"{cell(h and h['median'], '.2f'):>11}{cell(m and m['median'], '.0f'):>12}"
          f"{cell(p and p['median'], '.0f'):>12}")
print(f"results: {results_path}")
PY
