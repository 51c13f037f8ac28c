#!/usr/bin/env bash
# Issue #13's side-by-side figures (part of `make bench`): HEAD next to a base revision
# built from git (BENCH_BASE, default ac7c574, the last commit before #13), served one
# after the other on one PostgreSQL, alternated over BENCH_ROUNDS rounds (2 default):
# - POST /images of a 1 MB photo-like 2000x1500 JPEG (scripts/thumbnail_fixtures.py's
#   scene at quality 85), wrk -c8: the upload path (target HEAD >= 1.5x base);
# - POST /auth/login, wrk -c8 (bcrypt at the development cost, 10): no regression;
# - GET /images?per_page=20 of 10,000 approved rows, wrk -c32: no regression;
# - GET /images/{id} and its cached 200 px thumbnail, wrk -c32: what memory buys.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/side-by-side.sh
. scripts/bench-upload.sh

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
BASE=${BENCH_BASE:-ac7c574}
scripts/need.sh wrk build
side_by_side_start "$BASE"
dir=$SBS_DIR

sbs_photo 2000 1500 85
cat >"$dir/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"quiet-harbour-lamp-7"}'
wrk.headers["Content-Type"] = "application/json"
LUA

run() { # label binary
  local label=$1 api="http://127.0.0.1:$SBS_PORT/api/v1" id
  sbs_serve "$label" "$2"
  TOKEN=$SBS_TOKEN BODY_FILE="$dir/body" wrk -t2 -c8 -d"${DURATION}s" -s scripts/upload.lua "$api/images" \
    >"$dir/upload.txt"
  wrk -t2 -c8 -d"${DURATION}s" -s "$dir/login.lua" "$api/auth/login" >"$dir/login.txt"
  "${SBS_PSQL[@]}" -d "g_$label" -c "DELETE FROM images" -c "
    INSERT INTO images (title, description, status, uploaded_by, width, height, format, size_bytes, sha256, storage_key)
    SELECT 'image ' || g, 'bench row', 'approved', (SELECT id FROM users WHERE username = 'bench'), 640, 480, 'jpeg',
           100000, sha256(g::text::bytea), 'originals/00/00/bench' || g
    FROM generate_series(1, 10000) g" -c "VACUUM ANALYZE images"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $SBS_TOKEN" "$api/images?per_page=20" >"$dir/list.txt"
  id=$(curl -fsS -X POST "$api/images" -H "Authorization: Bearer $SBS_TOKEN" \
    -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -fsS -o /dev/null -H "Authorization: Bearer $SBS_TOKEN" "$api/images/$id/thumbnails/200"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $SBS_TOKEN" "$api/images/$id" >"$dir/image.txt"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $SBS_TOKEN" "$api/images/$id/thumbnails/200" >"$dir/thumb.txt"
  sbs_stop
  local kind
  for kind in upload login list image thumb; do
    [ "$(non2xx "$dir/$kind.txt")" = 0 ] || echo "WARNING: $label $kind: $(non2xx "$dir/$kind.txt") non-2xx answers"
  done
  printf '%-5s upload %6.1f/s  login %6.1f/s  list@10k %7.0f/s  GET /images/{id} %7.0f/s  cached thumbnail %7.0f/s\n' \
    "$label" "$(rps "$dir/upload.txt")" "$(rps "$dir/login.txt")" "$(rps "$dir/list.txt")" \
    "$(rps "$dir/image.txt")" "$(rps "$dir/thumb.txt")"
  echo "$label $(rps "$dir/upload.txt") $(rps "$dir/login.txt") $(rps "$dir/list.txt") $(rps "$dir/image.txt") $(rps "$dir/thumb.txt")" \
    >>"$dir/figures"
}

echo "== base $BASE vs HEAD $(git rev-parse --short HEAD), ${DURATION}s each, release builds, one PostgreSQL"
for round in $(seq 1 "$ROUNDS"); do
  run base "$dir/gallery-base"
  run head "$dir/gallery-head"
done
python3 - "$dir/figures" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
names = ["upload", "login", "list@10k", "GET /images/{id}", "cached thumbnail"]
print("\nHEAD / base, median over rounds:")
for i, name in enumerate(names, start=1):
    base = statistics.median(float(r[i]) for r in rows if r[0] == "base")
    head = statistics.median(float(r[i]) for r in rows if r[0] == "head")
    print(f"  {name:18} {base:9.1f} -> {head:9.1f}  {head / base:5.2f}x")
PY
