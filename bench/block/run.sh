#!/usr/bin/env bash
# Block benchmark: netloom's blkbench against Debian's fio on the same file, the same grid, in
# the same run. Random reads with O_DIRECT of a 512 MiB file on a disk file system (not tmpfs):
# block sizes 512 B, 4 KiB, 64 KiB x queue depths 1, 8, 32, blk_uring against fio's io_uring
# engine; and one sync point, 512 B at depth 1, blk_sync (sectors_per_request: 1) against fio's
# psync engine. The two tools alternate point by point (which goes first alternates too, run by
# run), RUNS times; the table shows medians, min-max, and netloom / fio per point. Builds nothing.
#
# usage: bench/block/run.sh <build-dir>     (netloom and the plugins blk_uring, blk_sync,
#                                           blkbench, wire, epoll, fast built there)
# environment:
#   RUNS=7              runs of every point per tool (medians of them; single runs spread
#                       +-30 % on a shared machine)
#   DIR=/var/tmp/netloom_bench_block   where the benchmark file lives (a disk file system)
#   OPS_SMALL=20000     requests per run at 512 B and 4 KiB;  OPS_LARGE=8000 at 64 KiB
#   OPS_SYNC=10000      requests per run of the sync point
#   RESULTS=<path>      JSON (default: results.json beside this script); the chart is written
#                       beside it with .svg for .json
#   PLUGIN_PATH=a:b     extra plugin directories searched before <build-dir>/plugins
#   KEEP=1              keep the per-run directory; KEEP_FILE=1 keeps the 512 MiB file
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 ]]; then
    sed -n '2,20p' "$0" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
runs=${RUNS:-7}
dir=${DIR:-/var/tmp/netloom_bench_block}
ops_small=${OPS_SMALL:-20000}
ops_large=${OPS_LARGE:-8000}
ops_sync=${OPS_SYNC:-10000}
results=${RESULTS:-$here/results.json}
chart=${results%.json}.svg

netloom=$build/netloom
[[ -x $netloom ]] || { echo "run.sh: no netloom executable in '$build'" >&2; exit 1; }
command -v fio >/dev/null || { echo "run.sh: fio not found (scripts/setup.sh installs it)" >&2; exit 1; }
plugin_args=()
IFS=: read -r -a extra_dirs <<<"${PLUGIN_PATH:-}"
for d in "${extra_dirs[@]}"; do [[ -n $d ]] && plugin_args+=(--plugin-path "$d"); done
plugin_args+=(--plugin-path "$build/plugins")

# O_DIRECT on tmpfs or ramfs measures memory copies, not a disk.
mkdir -p "$dir"
fs=$(stat -f -c %T "$dir")
case $fs in
    tmpfs | ramfs | overlayfs) echo "run.sh: $dir is on $fs; set DIR to a disk file system" >&2; exit 1 ;;
esac
file=$dir/disk.img
size=$((512 << 20))
# Written, not fallocated: reads of unwritten extents return zeros without touching the disk.
if [[ ! -f $file || $(stat -c %s "$file") -ne $size ]]; then
    echo "writing $file (512 MiB of random bytes)" >&2
    dd if=/dev/urandom of="$file" bs=1M count=512 oflag=direct status=none
fi

work=$(mktemp -d /tmp/netloom_bench_block.XXXXXX)
cleanup() {
    if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "run directory kept: $work" >&2; fi
    [[ -n ${KEEP_FILE:-} ]] || rm -f "$file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Grid points: "<name> <block size> <depth> <ops> <netloom driver> <fio engine>".
points=()
for bs in 512 4096 65536; do
    ops=$ops_small
    [[ $bs -eq 65536 ]] && ops=$ops_large
    for qd in 1 8 32; do points+=("uring-$bs-$qd $bs $qd $ops blk_uring io_uring"); done
done
points+=("sync-512-1 512 1 $ops_sync blk_sync psync")

# fio: the same file, random reads with O_DIRECT, `ops` requests (number_ios), offsets uniform
# with repeats like blkbench (norandommap), total latency percentiles (submit to completion,
# what blkbench times).
run_fio() {
    local out=$1 bs=$2 qd=$3 ops=$4 engine=$5 seed=$6
    mkdir -p "$out"
    fio --name=point --filename="$file" --rw=randread --direct=1 --ioengine="$engine" \
        --bs="$bs" --iodepth="$qd" --number_ios="$ops" --size="$size" --norandommap \
        --randseed="$seed" --lat_percentiles=1 --output-format=json \
        --output="$out/fio.json" >"$out/log.txt" 2>&1 ||
        { echo "run.sh: fio failed: $out" >&2; tail -n 20 "$out/log.txt" >&2; KEEP=1; exit 1; }
}

run_netloom() {
    local out=$1 bs=$2 qd=$3 ops=$4 driver=$5 seed=$6 keys
    mkdir -p "$out"
    case $driver in
        blk_uring) keys="queue_depth: $qd" ;;
        blk_sync) keys="sectors_per_request: 1, direct: true" ;;
    esac
    sed -e "s#@DRIVER@#$driver#g" -e "s#@FILE@#$file#g" -e "s#@DRIVER_KEYS@#$keys#g" \
        -e "s#@BS@#$bs#g" -e "s#@QD@#$qd#g" -e "s#@OPS@#$ops#g" -e "s#@SEED@#$seed#g" \
        -e "s#@OUT@#$out#g" "$here/blkbench.yaml" >"$out/config.yaml"
    "$netloom" "${plugin_args[@]}" run "$out/config.yaml" --no-stats \
        --stats-json "$out/stats.json" >"$out/log.txt" 2>&1 ||
        { echo "run.sh: netloom failed: $out/config.yaml" >&2; tail -n 20 "$out/log.txt" >&2; KEEP=1; exit 1; }
}

# Every run of every point and tool gets its own seed. With one seed per run, fio's offsets at
# 64 KiB would be its offsets at 512 B and 4 KiB scaled (fio draws a fraction of the file), so
# its later points would read what its earlier ones had pulled into whatever cache sits under
# the disk (a virtual disk's host), and blkbench's (drawn modulo the block count) would not.
for ((run = 1; run <= runs; run++)); do
    index=0
    for point in "${points[@]}"; do
        read -r name bs qd ops driver engine <<<"$point"
        seed=$((1000 * run + 2 * index))
        index=$((index + 1))
        echo "[run $run/$runs] $name: fio $engine and netloom $driver, $ops x $bs B at depth $qd" >&2
        if ((run % 2 == 1)); then
            run_fio "$work/$name/fio/$run" "$bs" "$qd" "$ops" "$engine" "$seed"
            run_netloom "$work/$name/netloom/$run" "$bs" "$qd" "$ops" "$driver" "$((seed + 1))"
        else
            run_netloom "$work/$name/netloom/$run" "$bs" "$qd" "$ops" "$driver" "$((seed + 1))"
            run_fio "$work/$name/fio/$run" "$bs" "$qd" "$ops" "$engine" "$seed"
        fi
    done
done

python3 "$here/summarise.py" "$work" "$results" "$chart" "$fs" "${points[@]}"
