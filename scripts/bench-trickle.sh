#!/usr/bin/env bash
# Issue #26 item 1 (part of `make bench`): the trickle attack. Two self-registered accounts
# keep four uploads open (two each, every upload turn of a two-core server), each sending one
# byte every 1.5 s and starting again as soon as one is cut off; meanwhile a third user
# uploads a 1 MB photo BENCH_TRIES times (3), each given at most BENCH_MAX_SECONDS (60).
# HEAD next to a base revision (BENCH_BASE, default a4d70fa: the last commit before
# `server.body_min_bytes_per_second`), release builds, default settings but two uploads per
# user. Reports the victim's upload times.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/side-by-side.sh
. scripts/bench-upload.sh

TRIES=${BENCH_TRIES:-3}
MAX=${BENCH_MAX_SECONDS:-60}
BASE=${BENCH_BASE:-a4d70fa}
scripts/need.sh build curl
side_by_side_start "$BASE"
export GALLERY__SERVER__MAX_UPLOADS_PER_USER=2 GALLERY__SERVER__MAX_CONCURRENT_UPLOADS=4
dir=$SBS_DIR
sbs_photo 1600 1200 90

# Four crawling uploads for two accounts until killed: one byte per 1.5 s of a 1 MB body.
crawl() { # port token token
  python3 - "$@" <<'PY' &
import socket, sys, threading, time
port, tokens = int(sys.argv[1]), sys.argv[2:]
def crawler(token):
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall((f"POST /api/v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                       "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1048576\r\n\r\n").encode())
            s.sendall(b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
                      b"Content-Type: image/jpeg\r\n\r\n\xff\xd8")
            while True:
                time.sleep(1.5)
                s.sendall(b"\x00")
        except OSError:
            time.sleep(0.05)
for token in tokens:
    for _ in range(2):
        threading.Thread(target=crawler, args=(token,), daemon=True).start()
threading.Event().wait()
PY
  CRAWL_PID=$!
}

run() { # label binary
  local label=$1 api="http://127.0.0.1:$SBS_PORT/api/v1" tokens=() name
  sbs_serve "$label" "$2"
  for name in crawler1 crawler2; do
    curl -fsS -o /dev/null -X POST "$api/auth/register" -H 'content-type: application/json' \
      -d "{\"username\":\"$name\",\"password\":\"amber-kettle-route-3\",\"password_confirm\":\"amber-kettle-route-3\",\"role\":\"beta_player\"}"
    tokens+=("$(curl -fsS -X POST "$api/auth/login" -H 'content-type: application/json' \
      -d "{\"username\":\"$name\",\"password\":\"amber-kettle-route-3\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')")
  done
  crawl "$SBS_PORT" "${tokens[@]}"
  sleep 3 # the crawlers connect and take every turn
  local times=()
  for _ in $(seq 1 "$TRIES"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}:%{http_code}' --max-time "$MAX" -X POST "$api/images" \
      -H "Authorization: Bearer $SBS_TOKEN" -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' \
      --data-binary @"$dir/body" || true)")
  done
  kill "$CRAWL_PID" 2>/dev/null || true
  wait "$CRAWL_PID" 2>/dev/null || true
  sbs_stop
  printf '%-5s the victim'"'"'s 1 MB uploads (s:status, 000 = gave up after %s s): %s\n' "$label" "$MAX" "${times[*]}"
}

echo "== base $BASE vs HEAD $(git rev-parse --short HEAD): four crawling uploads from two accounts"
run base "$dir/gallery-base"
run head "$dir/gallery-head"
