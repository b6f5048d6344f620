#!/usr/bin/env bash
# The main job: installs what is missing (Debian 12, as root), builds, and runs the default
# composition on the in-process wire. Extra arguments go to `netloom run`.
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
exec ./build/netloom run configs/default.yaml "$@"
