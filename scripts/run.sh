#!/usr/bin/env bash
# The main job: installs what is missing (Debian 12, as root), builds, and runs the default
# composition on the in-process wire. Extra arguments go to `netloom run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build -DNETLOOM_TESTS=OFF -DNETLOOM_BENCH=OFF >/dev/null
exec ./build/netloom run configs/default.yaml "$@"
