#!/usr/bin/env bash
# One fuzz target as a CTest test: fuzzes for <seconds> starting from the committed seeds,
# new inputs going to a scratch corpus in the build tree (the seeds are never written), a crash
# saved there too. Fails (libFuzzer's exit status) on a crash, leak, timeout or FUZZ_CHECK.
# -entropic=0: see scripts/fuzz.sh. -seed=1: a failure in CI reproduces with the same command (the
# mutations are the same sequence on every machine; a slower one runs a prefix of it).
# Usage: run_fuzz_test.sh <target binary> <seconds> <seed corpus dir> <work dir>
set -euo pipefail
binary=$1 seconds=$2 seeds=$3 work=$4
rm -rf "$work"
mkdir -p "$work/corpus"
exec "$binary" -max_total_time="$seconds" -entropic=0 -seed=1 -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds"
