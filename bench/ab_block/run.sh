#!/usr/bin/env bash
# The second A/B (configs/ab_block.yaml): makes its image — a tar of one 64 MiB random file,
# big.bin, at /var/tmp/netloom_ab_block.tar (not kept in git; remade when missing or with
# --fresh) — then runs `netloom ab configs/ab_block.yaml` with any further arguments
# (--runs N, --quick, --json F, --keep...). /var/tmp, not /tmp: the variants open the image with
# O_DIRECT, which a tmpfs /tmp may refuse.
#   bench/ab_block/run.sh [build-dir] [--fresh] [netloom ab options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
if [[ $# -gt 0 && $1 != -* ]]; then build=$1; shift; fi
image=/var/tmp/netloom_ab_block.tar
if [[ ${1:-} == --fresh ]]; then rm -f "$image"; shift; fi
if [[ ! -s $image ]]; then
  work=$(mktemp -d /var/tmp/netloom_ab_block.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  head -c 64M /dev/urandom >"$work/big.bin"
  tar -C "$work" -cf "$image.part" big.bin
  mv "$image.part" "$image"
  echo "made $image ($(stat -c %s "$image") bytes)" >&2
fi
"$build/netloom" ab configs/ab_block.yaml "$@"
