#!/usr/bin/env bash
# Runs the checksum micro-benchmark (built beforehand; this script builds nothing) with 5
# repetitions and prints the median GB/s of each implementation at each size, with its ratio
# to ref.
#
# usage: bench/checksum/run.sh [path/to/checksum_bench] [extra --benchmark_* flags]
#   default binary: build/bench/checksum/checksum_bench
#   the JSON goes to $CHECKSUM_BENCH_JSON, default checksum_bench.json beside the binary
set -euo pipefail

binary=${1:-build/bench/checksum/checksum_bench}
if [[ $# -gt 0 ]]; then shift; fi
if [[ ! -x $binary ]]; then
    echo "run.sh: no benchmark binary at '$binary' (build the checksum_bench target first)" >&2
    exit 1
fi
json=${CHECKSUM_BENCH_JSON:-$(dirname "$binary")/checksum_bench.json}

# The console report goes to stderr so stdout carries only the table.
"$binary" --benchmark_out="$json" --benchmark_out_format=json \
    --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@" >&2

python3 - "$json" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)

# Benchmarks are named checksum/<implementation>/<size in bytes>.
medians = {}
for entry in report["benchmarks"]:
    if entry.get("aggregate_name") != "median":
        continue
    _, implementation, size = entry["run_name"].split("/")
    medians[(implementation, int(size))] = entry["bytes_per_second"] / 1e9

implementations = list(dict.fromkeys(name for name, _ in medians))
sizes = sorted({size for _, size in medians})

def size_label(size):
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"

print(f"median GB/s over 5 repetitions (ratio to ref); {report['context'].get('host_name', '')}"
      f", {report['context'].get('num_cpus', '?')} cpus"
      f" @ {report['context'].get('mhz_per_cpu', '?')} MHz")
header = f"{'implementation':<14}" + "".join(f"{size_label(s):>18}" for s in sizes)
print(header)
print("-" * len(header))
for name in implementations:
    cells = []
    for size in sizes:
        value = medians.get((name, size))
        reference = medians.get(("ref", size))
        if value is None:
            cells.append(f"{'-':>18}")
        elif reference:
            cells.append(f"{value:9.2f} ({value / reference:4.1f}x)")
        else:
            cells.append(f"{value:18.2f}")
    print(f"{name:<14}" + "".join(f"{c:>18}" for c in cells))
PY
