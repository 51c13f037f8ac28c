#!/usr/bin/env bash
# Issue #23's side-by-side figures (part of `make bench`): a tidying that must not cost
# speed. HEAD next to a base revision built from git (BENCH_BASE, default a7c15d0, the last
# commit before #23), served one after the other on one PostgreSQL, alternated over
# BENCH_ROUNDS rounds (4 default), wrk -c32 for reads and -c8 for uploads:
# - GET /api/v1/users/me: the authenticated hot path (routes now built from one list);
# - a cached 200 px thumbnail;
# - POST /images of a 1 MB photo-like JPEG: the per-user slot now taken in the use-case.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/side-by-side.sh
. scripts/bench-upload.sh

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-4}
BASE=${BENCH_BASE:-a7c15d0}
scripts/need.sh wrk build
side_by_side_start "$BASE"
dir=$SBS_DIR

sbs_photo 1600 1200 90

run() { # label binary
  local label=$1 api="http://127.0.0.1:$SBS_PORT/api/v1" id
  sbs_serve "$label" "$2"
  id=$(curl -fsS -X POST "$api/images" -H "Authorization: Bearer $SBS_TOKEN" \
    -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -fsS -o /dev/null -H "Authorization: Bearer $SBS_TOKEN" "$api/images/$id/thumbnails/200"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $SBS_TOKEN" "$api/users/me" >"$dir/me.txt"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $SBS_TOKEN" "$api/images/$id/thumbnails/200" >"$dir/thumb.txt"
  TOKEN=$SBS_TOKEN BODY_FILE="$dir/body" wrk -t2 -c8 -d"${DURATION}s" -s scripts/upload.lua "$api/images" \
    >"$dir/upload.txt"
  sbs_stop
  local kind
  for kind in me thumb upload; do
    [ "$(non2xx "$dir/$kind.txt")" = 0 ] || echo "WARNING: $label $kind: $(non2xx "$dir/$kind.txt") non-2xx answers"
  done
  printf '%-5s GET /users/me %8.0f/s  cached thumbnail %8.0f/s  upload %6.1f/s\n' \
    "$label" "$(rps "$dir/me.txt")" "$(rps "$dir/thumb.txt")" "$(rps "$dir/upload.txt")"
  echo "$label $(rps "$dir/me.txt") $(rps "$dir/thumb.txt") $(rps "$dir/upload.txt")" >>"$dir/figures"
}

echo "== base $BASE vs HEAD $(git rev-parse --short HEAD), ${DURATION}s each, release builds, one PostgreSQL"
# Each round swaps who goes first, so that neither always meets the cluster the other left.
for round in $(seq 1 "$ROUNDS"); do
  if ((round % 2)); then
    run base "$dir/gallery-base"
    run head "$dir/gallery-head"
  else
    run head "$dir/gallery-head"
    run base "$dir/gallery-base"
  fi
done
python3 - "$dir/figures" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
names = ["GET /users/me", "cached thumbnail", "upload 1 MB"]
print("\nHEAD / base, median over rounds:")
for i, name in enumerate(names, start=1):
    base = statistics.median(float(r[i]) for r in rows if r[0] == "base")
    head = statistics.median(float(r[i]) for r in rows if r[0] == "head")
    print(f"  {name:18} {base:9.1f} -> {head:9.1f}  {head / base:5.2f}x")
PY
