#!/usr/bin/env bash
# Long-running reliability checks of issue 15 (not CI's short versions):
#   scripts/soak.sh N [--seed S] [--engine tcp_utcp|tcp_classic] [-j J] [--json FILE] ...
#       N seeded transfers per engine under the `sim` scheduler with impair faults, rate limits
#       and outages (tests/soak/soak.py; CI runs 50 per engine as ctest `soak[<engine>]`).
#       --seed S replays one seed alone (the command a failure prints).
#   scripts/soak.sh --leak [--engine E] [...]
#       the long-run leak check (tests/soak/leak.py): 10^6 HTTP requests over 10^5
#       connections and 10 GiB per engine, RSS and engine memory counters sampled.
# The netloom binary is build/netloom unless NETLOOM_BUILD names another build directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NETLOOM_BUILD:-$root/build}
python=$(command -v /usr/bin/python3 || command -v python3)
if [[ ${1:-} == --leak ]]; then
  shift
  exec "$python" "$root/tests/soak/leak.py" --netloom "$build/netloom" "$@"
fi
exec "$python" "$root/tests/soak/soak.py" --netloom "$build/netloom" "$@"
