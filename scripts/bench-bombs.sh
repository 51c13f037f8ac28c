#!/usr/bin/env bash
# Decompression bombs (part of `make bench`): 8 thumbnails of a 7000×7000 lossless WebP and
# GIF of a few tens of KB rendered at once, with no bound on decoded memory (what the server
# did before `images.decode_memory_bytes`) beside the default 512 MiB budget, at 8 renders at
# once and at 2 (the default on 2 cores). Peak RSS of each process (`/usr/bin/time`); the
# target is ≤ 700 MB with the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || scripts/need.sh /usr/bin/time:time
scripts/need.sh build
cargo build --release --quiet -p gallery-imaging --example bomb_bench
rss=$(mktemp)
trap 'rm -f "$rss"' EXIT
printf '%-5s %-11s %-10s | %8s | %8s | %s\n' kind concurrency budget "file B" "ms" "peak RSS MB"
for kind in webp gif; do
  for concurrency in 8 2; do
    for budget in 0 536870912; do
      read -r bytes ms <<<"$( { /usr/bin/time -f '%M' ./target/release/examples/bomb_bench "$kind" 8 "$concurrency" "$budget" 2>"$rss"; } )"
      label=none; [ "$budget" = 0 ] || label=512MiB
      printf '%-5s %-11s %-10s | %8s | %8s | %s\n' "$kind" "$concurrency" "$label" "$bytes" "$ms" "$(awk '{printf "%.0f", $1/1024}' "$rss")"
    done
  done
done
