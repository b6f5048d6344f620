#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for [seconds] each (default 600), one at a time,
# and prints a table per target (runs, exec/s, CPU seconds, corpus size, crashes); writes the
# same as JSON. Builds the targets first (configuring the tree if needed: clang, ASan+UBSan,
# NETLOOM_FUZZ=ON, the flags of scripts/test.sh's build-asan, so both share one tree).
#
# Each target fuzzes from its committed seeds (tests/fuzz/corpus/<target>, never written) into a
# working corpus kept in the build tree (<build>/fuzz-corpus/<target>), so successive runs build
# on each other. A crash stops that target's run; the input is saved as
# <build>/fuzz-artifacts/<target>-crash-<sha1> (reproduce: <build>/fuzz/fuzz_<target> <file>).
#
# libFuzzer's entropic power schedule is turned off (-entropic=0): with the tens of thousands of
# features one engine or IP-layer input touches, its bookkeeping took 60 % of the CPU
# (tcp_classic: 400 runs in 6.4 CPU s with it, 2.2 s without).
#
# Environment: FUZZ_BUILD_DIR (default build-asan), FUZZ_TARGETS (space-separated subset, e.g.
# "tcp_utcp http_request"), FUZZ_JSON (default <build>/fuzz-results.json), FUZZ_NICE (default 10),
# FUZZ_NO_BUILD=1 (use the binaries as they are).
# Exit status: 0 when no target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
build=${FUZZ_BUILD_DIR:-build-asan}
json=${FUZZ_JSON:-$build/fuzz-results.json}
nice_level=${FUZZ_NICE:-10}
all_targets=(ethernet arp ipv4 icmp udp tcp_header ip_input tcp_utcp tcp_classic config
             http_request iperf3_control tar drill_script)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

if [ "${FUZZ_NO_BUILD:-0}" = 1 ]; then
  :
elif ! grep -qs '^NETLOOM_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "== configuring $build (clang, ASan+UBSan, NETLOOM_FUZZ=ON)"
  mkdir -p "$build"
  cmake -S . -B "$build" -DNETLOOM_SANITIZE=ON -DNETLOOM_FUZZ=ON -DNETLOOM_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >"$build/configure-fuzz.log" 2>&1 \
    || { cat "$build/configure-fuzz.log"; exit 1; }
fi
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  echo "== building ${#targets[@]} fuzz target(s)"
  nice -n "$nice_level" cmake --build "$build" -j "$(nproc)" \
    --target $(printf 'fuzz_%s ' "${targets[@]}") >"$build/fuzz-build.log" 2>&1 \
    || { tail -n 40 "$build/fuzz-build.log"; exit 1; }
fi

mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
rows=()
crashed=0
for t in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus"
  before=$(ls "$build/fuzz-artifacts" | grep -c "^$t-" || true)
  echo "== $t: ${seconds}s"
  # CPU seconds from the kernel (user + system of the fuzzer and anything it ran).
  /usr/bin/time -f 'cpu_seconds %U %S' -o "$log.time" \
    nice -n "$nice_level" "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -entropic=0 -timeout=25 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
      "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  after=$(ls "$build/fuzz-artifacts" | grep -c "^$t-" || true)
  crashes=$((after - before))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # e.g. an OOM without input
  [ "$crashes" -gt 0 ] && { crashed=1; grep -m 3 -E 'ERROR|FUZZ_CHECK|SUMMARY' "$log"; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cpu=$(awk '/^cpu_seconds/ {printf "%.0f", $2 + $3}' "$log.time")
  files=$(find "$corpus" -type f | wc -l)
  kib=$(du -sk --apparent-size "$corpus" | cut -f1)
  rows+=("$t ${runs:-0} ${rate:-0} ${cpu:-0} $files $kib $crashes $status")
done

printf '\n%-15s %12s %8s %8s %14s %8s\n' target runs exec/s cpu_s corpus crashes
total_cpu=0
for r in "${rows[@]}"; do
  read -r t runs rate cpu files kib crashes status <<<"$r"
  printf '%-15s %12s %8s %8s %7s/%4sKiB %8s\n' "$t" "$runs" "$rate" "$cpu" "$files" "$kib" "$crashes"
  total_cpu=$((total_cpu + cpu))
done
printf '%-15s %12s %8s %8s\n' total "" "" "$total_cpu"

python3 - "$json" "$seconds" "${rows[@]}" <<'PY'
import json, sys
out, seconds, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
targets = []
for r in rows:
    t, runs, rate, cpu, files, kib, crashes, status = r.split()
    targets.append({"target": t, "seconds": seconds, "runs": int(runs), "exec_per_sec": int(rate),
                    "cpu_seconds": int(cpu), "corpus_files": int(files), "corpus_kib": int(kib),
                    "crashes": int(crashes), "exit_status": int(status)})
json.dump({"targets": targets, "cpu_seconds": sum(t["cpu_seconds"] for t in targets)},
          open(out, "w"), indent=2)
PY
echo "results: $json"
exit "$crashed"
