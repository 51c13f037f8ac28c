#!/usr/bin/env bash
# Mixed load (part of `make bench`): login, list, get, thumbnail and upload in fixed
# proportions (scripts/load.lua) at 32 connections for 60 s against a release build on a
# throwaway PostgreSQL: requests per second, p50/p99, error rate, the server's peak RSS.
# Then the same load with PostgreSQL stopped from 20 s to 30 s: which answers came back,
# second by second (only 503s while it is down, none after, is the target).
# Rate limits are off: every request comes from one address.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${LOAD_SECONDS:-60}
CONNECTIONS=${LOAD_CONNECTIONS:-32}
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
scripts/need.sh wrk build
cargo build --release --quiet -p gallery-server
. scripts/live.sh
live_start ./target/release/gallery
export LOAD_USER=$LIVE_ADMIN LOAD_PASSWORD=$LIVE_PASSWORD LOAD_BOUNDARY=gallery-load-boundary
export LOAD_UPLOAD=$LIVE_DIR/upload.body LOAD_COUNTS=$LIVE_DIR/counts
python3 - "$LIVE_DIR" "$LOAD_BOUNDARY" <<'PY'
import io, sys
from PIL import Image
out, boundary = sys.argv[1], sys.argv[2]
Image.effect_noise((1920, 1080), 40).convert("RGB").save(f"{out}/photo.jpg", quality=90)
small = io.BytesIO()
Image.effect_noise((320, 240), 40).convert("RGB").save(small, "PNG")
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nload\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.png\"\r\n"
        "Content-Type: image/png\r\n\r\n").encode() + small.getvalue() + f"\r\n--{boundary}--\r\n".encode()
open(f"{out}/upload.body", "wb").write(body)
PY
LOAD_TOKEN=$(live_token)
export LOAD_TOKEN
LOAD_IMAGE=$(curl -fsS "$LIVE_URL/api/v1/images" -H "Authorization: Bearer $LOAD_TOKEN" \
  -F title=photo -F "file=@$LIVE_DIR/photo.jpg" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
export LOAD_IMAGE

peak_rss() { awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$LIVE_PID/status"; }
report() { # wrk output file
  awk '/^Requests\/sec/ {rps=$2} $1 == "50%" {p50=$2} $1 == "99%" {p99=$2}
       /requests in/ {total=$1} /Non-2xx/ {bad=$NF}
       END {printf "%s req/s  p50 %s  p99 %s  requests %s  non-2xx %s\n", rps, p50, p99, total, bad + 0}' "$1"
}

echo "== mixed load, ${DURATION}s at $CONNECTIONS connections (1 login, 1 upload, 6 lists, 6 gets, 6 thumbnails in 20)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s scripts/load.lua "$LIVE_URL" >"$LIVE_DIR/wrk.txt"
report "$LIVE_DIR/wrk.txt"
echo "statuses: $(awk '{n[$2] += $3} END {for (s in n) printf "%s×%d ", s, n[s]}' "$LOAD_COUNTS")"
echo "server peak RSS: $(peak_rss)"

echo "== the same, PostgreSQL stopped at 20 s and started again at 30 s"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s scripts/load.lua "$LIVE_URL" >"$LIVE_DIR/wrk2.txt" &
wrk_pid=$!
sleep 20; pg_stop "$LIVE_DIR"; echo "stopped PostgreSQL at $(date +%T)"
sleep 10; pg_start "$LIVE_DIR" "$LIVE_PGPORT" -c fsync=off -c max_connections=100; echo "started PostgreSQL at $(date +%T)"
wait "$wrk_pid"
report "$LIVE_DIR/wrk2.txt"
python3 - "$LOAD_COUNTS" <<'PY'
import collections, sys
rows = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if line.strip()]
by_second = collections.defaultdict(collections.Counter)
for second, status, n in rows:
    by_second[second][status] += n
for second in sorted(by_second):
    print(f"  t={second:2d}s  " + "  ".join(f"{s}×{n}" for s, n in sorted(by_second[second].items())))
bad = [(t, s) for t, c in by_second.items() for s in c if s >= 400 and s != 503]
after = [t for t, c in by_second.items() if t > 32 and any(s >= 400 for s in c)]
print(f"answers other than 2xx/503: {bad or 'none'}; failures after the restart (t > 32 s): {after or 'none'}")
PY
echo "server peak RSS: $(peak_rss)"
