#!/usr/bin/env bash
# Image benchmarks (part of `make bench`): upload throughput of a 5 MB JPEG at 8
# connections with the server's peak RSS; peak RSS for 1 MB vs 50 MB uploads of the same
# pixels (streaming: memory must not grow with the file); GET /images (20 per page of
# 10,000 rows) at 32 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh
. scripts/bench-upload.sh

DURATION=${BENCH_SECONDS:-10}
scripts/need.sh wrk build
cargo build --release --quiet -p gallery-server
cargo build --release --quiet -p gallery-imaging --example make_fixture

# One user uploads on 8 connections at once: lift the per-user bound on uploads in progress.
export GALLERY__SERVER__MAX_UPLOADS_PER_USER=64
LIVE_MAX_CONNECTIONS=200 live_start ./target/release/gallery
dir=$LIVE_DIR
# Enterprise: 50 MiB uploads, 100 GiB of storage.
live_psql -c "INSERT INTO subscriptions (user_id, plan_id) SELECT u.id, p.id FROM users u, plans p WHERE u.username = '$LIVE_ADMIN' AND p.code = 'enterprise'"
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$LIVE_PID/status"; }


upload_run() { # label, jpeg, connections
  multipart "$2" "$dir/body"
  live_restart
  TOKEN=$(live_token) BODY_FILE="$dir/body" wrk -t2 -c"$3" -d"${DURATION}s" -s scripts/upload.lua \
    "$LIVE_URL/api/v1/images" >"$dir/wrk.txt"
  local rps non2xx size
  rps=$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.txt")
  size=$(stat -c %s "$2")
  printf '%-34s %6.1f uploads/s  %7.1f MB/s  peak RSS %4s MB  non-2xx %s\n' "$1" "$rps" \
    "$(python3 -c "print($rps * $size / 1e6)")" "$(peak_rss_mb)" "${non2xx:-0}"
}

fixture() { ./target/release/examples/make_fixture "$@"; }
fixture "$dir/5mb.jpg" 1900 1450 5000000
fixture "$dir/1mb.jpg" 800 600 1000000
fixture "$dir/50mb.jpg" 800 600 50000000

echo "== uploads (POST /api/v1/images, wrk -t2, ${DURATION}s each, release build)"
upload_run "5 MB JPEG (1900x1450), 8 conns" "$dir/5mb.jpg" 8
upload_run "1 MB JPEG (800x600), 8 conns" "$dir/1mb.jpg" 8
upload_run "50 MB JPEG (800x600), 8 conns" "$dir/50mb.jpg" 8

echo "== GET /api/v1/images?per_page=20 of 10,000 approved rows, wrk -t2 -c32 ${DURATION}s"
live_restart
live_psql -c "DELETE FROM images" -c "
  INSERT INTO images (title, description, status, uploaded_by, width, height, format, size_bytes, sha256, storage_key)
  SELECT 'image ' || g, 'bench row', 'approved', (SELECT id FROM users WHERE username = '$LIVE_ADMIN'), 640, 480, 'jpeg',
         100000, sha256(g::text::bytea), 'originals/00/00/bench' || g
  FROM generate_series(1, 10000) g" -c "ANALYZE images"
curl -fsS -X POST "$LIVE_URL/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"quiet-harbour-lamp-7","password_confirm":"quiet-harbour-lamp-7","role":"company_user"}' >/dev/null
for who in viewer "$LIVE_ADMIN"; do
  if [ "$who" = viewer ]; then token=$(live_token viewer quiet-harbour-lamp-7); else token=$(live_token); fi
  wrk -t2 -c32 -d"${DURATION}s" --latency -H "Authorization: Bearer $token" \
    "$LIVE_URL/api/v1/images?per_page=20" >"$dir/wrk.txt"
  printf '%-34s %8.0f req/s  p50 %s  p99 %s  non-2xx %s\n' "as $who" "$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")" \
    "$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")" \
    "$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.txt" | grep . || echo 0)"
done

echo "== thumbnails: first request under 32 concurrent ones, then cached, next to GET /images/{id}"
fixture "$dir/4000.jpg" 4000 3000
multipart "$dir/4000.jpg" "$dir/body"
token=$(live_token)
id=$(curl -fsS -X POST "$LIVE_URL/api/v1/images" -H "Authorization: Bearer $token" \
  -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/body" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 - "$LIVE_URL/api/v1/images/$id/thumbnails/200" "$token" <<'PY'
import sys, time, threading, urllib.request, statistics
url, token = sys.argv[1], sys.argv[2]
times, lock = [], threading.Lock()
def fetch():
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    start = time.perf_counter()
    urllib.request.urlopen(req).read()
    with lock:
        times.append((time.perf_counter() - start) * 1000)
threads = [threading.Thread(target=fetch) for _ in range(32)]
for t in threads: t.start()
for t in threads: t.join()
print(f"first request of a 4000x3000 JPEG's 200 px thumbnail, 32 at once: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
PY
echo "rendered files: $(find "$dir/images/thumbnails" -type f | wc -l)"
for what in "thumbnails/200" ""; do
  path="images/$id${what:+/$what}"
  label="GET /images/{id}${what:+/$what}"
  wrk -t2 -c32 -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$LIVE_URL/api/v1/$path" >"$dir/wrk.txt"
  printf '%-34s %8.0f req/s  p50 %s  p99 %s\n' "$label" "$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")" \
    "$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")"
done
