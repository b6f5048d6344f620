#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian 12, as root), builds, and runs every test
# through CTest (unit, CLI, integration against Linux in network namespaces, static image), then
# the unit tests again in an ASan+UBSan build. Tests that need root skip with a message otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

summary=()
passed=0
failed=0
record() {  # record <name> <ctest log>
  local line p f
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$2" | tail -n 1)
  if [ -z "$line" ]; then
    summary+=("$1: ctest ran no tests"); failed=$((failed + 1)); return
  fi
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  p=$(( $(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/') - f ))
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("$1: $line")
}

echo "== build (RelWithDebInfo)"
bash scripts/build.sh build -DNETLOOM_TESTS=ON -DNETLOOM_BENCH=ON || exit 1

# The ASan+UBSan tree builds at the lowest CPU priority while the main tests run: most of those
# wait on the network (retransmission timers, fixed-length iperf3 runs), so the build mostly
# fills idle time and the suite takes minutes less on the 2-core CI machine.
echo "== build (ASan+UBSan) started in the background (log: build-asan/build.log)"
mkdir -p build-asan
# -O1 -g1 (ASan's own advice: -O1 keeps reports exact) compiles in half the time of -O2 -g under
# the sanitizers; line tables are all a report needs.
nice -n 19 bash scripts/build.sh build-asan -DNETLOOM_SANITIZE=ON -DNETLOOM_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" >build-asan/build.log 2>&1 &
asan_build=$!

echo "== tests"
(cd build && ctest --output-on-failure --timeout 1200 -j 2) 2>&1 | tee build/ctest.log
record "main build" build/ctest.log

echo "== ASan+UBSan unit tests"
if wait "$asan_build"; then
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -L unit -j 2) 2>&1 | tee build-asan/ctest.log
  record "asan+ubsan unit" build-asan/ctest.log
else
  tail -n 40 build-asan/build.log
  summary+=("asan+ubsan: build failed (build-asan/build.log)"); failed=$((failed + 1))
fi

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
