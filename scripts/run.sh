#!/usr/bin/env bash
# The main job: installs what is missing (Debian 12, as root), builds, and runs the A/B of the
# default composition on the in-process wire: tcp_utcp against tcp_classic (bulk throughput,
# request/response, connection rate, memory per idle connection), a table on stdout, the JSON
# and the SVG chart written beside it. Extra arguments go to `netloom ab` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "building (log: build/build.log)..."
mkdir -p build
if ! bash scripts/build.sh build -DNETLOOM_TESTS=OFF -DNETLOOM_BENCH=OFF >build/build.log 2>&1; then
  tail -n 40 build/build.log
  echo "build failed; the whole log is in build/build.log" >&2
  exit 1
fi
status=0
./build/netloom ab configs/default.yaml --json ab_results.json --chart ab_chart.svg "$@" || status=$?
echo
echo "results: $(pwd)/ab_results.json, chart: $(pwd)/ab_chart.svg"
exit $status
