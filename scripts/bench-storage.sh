#!/usr/bin/env bash
# Issue #14's figures (part of `make bench`): the s3 backend against fs, one release build,
# one PostgreSQL, and s3s-fs on loopback as the object store:
# - POST /images of a 1 MB photo-like 2000x1500 JPEG, wrk -c8, fs and s3 alternated over
#   BENCH_ROUNDS rounds (2 default): s3 : fs (target >= 0.7);
# - a cached 200 px thumbnail, wrk -c32, the same servers: s3 : fs;
# - peak RSS (VmHWM) of a fresh server after one upload of 1 MB and of 50 MB, each on s3
#   (and fs for reference): 50 MB : 1 MB (target <= 1.2);
# - two servers on one database and bucket: how long after a logout on A its access token
#   is refused by B, which had it in memory; p50 and p99 of 100 (target p99 < 50 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
. scripts/s3.sh
. scripts/bench-upload.sh
. scripts/wrk.sh

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
scripts/need.sh wrk build
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
pg_ensure_installed
cargo build --release --quiet -p gallery-server
dir=$(mktemp -d /tmp/gallery-bench-storage.XXXXXX)
chmod 755 "$dir"
cp target/release/gallery "$dir/gallery"
bin=$dir/gallery
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  pg_stop "$dir/pg"
  s3_stop "$dir/s3"
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

pgport=$(free_port)
pg_start "$dir/pg" "$pgport" -c max_connections=200
s3port=$(free_port)
s3_start "$dir/s3" "$s3port"
PSQL=("$(pg_bin)/psql" -qX -h 127.0.0.1 -p "$pgport" -U postgres)
export GALLERY_ENV=development GALLERY__LOG__FILTER=warn GALLERY__RATE_LIMIT__ENABLED=false
export GALLERY__SERVER__MAX_UPLOADS_PER_USER=64
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
PASSWORD=quiet-harbour-lamp-7

python3 - "$dir" <<'PY'
import os, sys
sys.path.insert(0, "scripts")
from PIL import Image
from thumbnail_fixtures import photo
photo(2000, 1500).save(os.path.join(sys.argv[1], "1mb.jpg"), "JPEG", quality=85)
# Noise at quality 100: about 50 MB that libjpeg still has to read every block of.
w, h = 5800, 4350
Image.frombytes("RGB", (w, h), os.urandom(w * h * 3)).save(os.path.join(sys.argv[1], "50mb.jpg"), "JPEG", quality=100)
PY
multipart "$dir/1mb.jpg" "$dir/body"
echo "fixtures: 1mb.jpg $(stat -c %s "$dir/1mb.jpg") bytes, 50mb.jpg $(stat -c %s "$dir/50mb.jpg") bytes"

FRESH=0
# fresh BACKEND: a new database (and folder or bucket) for the servers started next,
# migrated, with the admin `bench` on the enterprise plan.
fresh() {
  FRESH=$((FRESH + 1))
  local db="g_$FRESH"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/$db"
  if [ "$1" = s3 ]; then
    mkdir "$dir/s3/data/bench-$FRESH"
    export GALLERY__STORAGE__BACKEND=s3 GALLERY__STORAGE__S3__BUCKET="bench-$FRESH" \
      GALLERY__STORAGE__S3__ENDPOINT="http://127.0.0.1:$s3port" GALLERY__STORAGE__S3__FORCE_PATH_STYLE=true
  else
    export GALLERY__STORAGE__BACKEND=fs GALLERY__STORAGE__ROOT="$dir/images-$FRESH"
  fi
  { "$bin" migrate && GALLERY_ADMIN_PASSWORD=$PASSWORD "$bin" create-admin --username bench; } >"$dir/setup.log" 2>&1 ||
    { cat "$dir/setup.log" >&2; exit 1; }
  "${PSQL[@]}" -d "$db" -c "INSERT INTO subscriptions (user_id, plan_id) SELECT u.id, p.id FROM users u, plans p WHERE u.username = 'bench' AND p.code = 'enterprise'"
}

# serve PORT: starts a server there; sets PID.
serve() {
  GALLERY__SERVER__PORT=$1 "$bin" serve 2>>"$dir/server.log" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server did not become ready:" >&2
  tail -n 20 "$dir/server.log" >&2
  exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

token() { # PORT
  curl -fsS -X POST "http://127.0.0.1:$1/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}


throughput() { # BACKEND
  local port api token id
  fresh "$1"
  port=$(free_port)
  api="http://127.0.0.1:$port/api/v1"
  serve "$port"
  token=$(token "$port")
  TOKEN=$token BODY_FILE="$dir/body" wrk -t2 -c8 -d"${DURATION}s" -s scripts/upload.lua "$api/images" >"$dir/upload.txt"
  id=$(curl -fsS -X POST "$api/images" -H "Authorization: Bearer $token" \
    -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$api/images/$id/thumbnails/200"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $token" "$api/images/$id/thumbnails/200" >"$dir/thumb.txt"
  stop "$PID"
  local kind
  for kind in upload thumb; do
    [ "$(non2xx "$dir/$kind.txt")" = 0 ] || echo "WARNING: $1 $kind: $(non2xx "$dir/$kind.txt") non-2xx answers"
  done
  printf '%-3s upload 1 MB %6.1f/s  cached thumbnail %8.0f/s\n' "$1" "$(rps "$dir/upload.txt")" "$(rps "$dir/thumb.txt")"
  echo "$1 $(rps "$dir/upload.txt") $(rps "$dir/thumb.txt")" >>"$dir/figures"
}

peak_rss() { # BACKEND FILE -> prints VmHWM in kB after one upload of FILE by a fresh server
  local port status
  fresh "$1"
  port=$(free_port)
  serve "$port"
  status=$(curl -sS -o "$dir/rss-answer" -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/images" \
    -H "Authorization: Bearer $(token "$port")" -F "file=@$2;type=image/jpeg")
  [ "$status" = 201 ] || { echo "upload of $2 answered $status: $(cat "$dir/rss-answer")" >&2; exit 1; }
  awk '/^VmHWM/ {print $2}' "/proc/$PID/status"
  stop "$PID"
}

echo "== fs vs s3 (s3s-fs on loopback), HEAD $(git rev-parse --short HEAD), ${DURATION}s each, release build"
for round in $(seq 1 "$ROUNDS"); do
  throughput fs
  throughput s3
done

echo "== peak RSS after one upload (fresh server each)"
for backend in fs s3; do
  # Not in $(...): fresh counts the databases it makes.
  peak_rss "$backend" "$dir/1mb.jpg" >"$dir/rss"
  small=$(cat "$dir/rss")
  peak_rss "$backend" "$dir/50mb.jpg" >"$dir/rss"
  large=$(cat "$dir/rss")
  printf '%-3s 1 MB %7d kB   50 MB %7d kB   %.2fx\n' "$backend" "$small" "$large" "$(awk -v l="$large" -v s="$small" 'BEGIN {print l / s}')"
done

echo "== revocation reaching the other server (two servers, one database and bucket)"
fresh s3
a=$(free_port)
serve "$a"
b=$(free_port)
serve "$b"
python3 - "$a" "$b" "$PASSWORD" <<'PY'
import http.client, json, statistics, sys, time
a, b, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
on_a, on_b = http.client.HTTPConnection("127.0.0.1", a), http.client.HTTPConnection("127.0.0.1", b)

def call(conn, method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    data = res.read()
    return res.status, data

took, polls = [], []
for _ in range(100):
    status, data = call(on_a, "POST", "/auth/login", {"username": "bench", "password": password})
    assert status == 200, (status, data)
    pair = json.loads(data)
    for _ in range(2):  # B holds the session in memory now
        assert call(on_b, "GET", "/users/me", token=pair["access_token"])[0] == 200
    status, _ = call(on_a, "POST", "/auth/logout", {"refresh_token": pair["refresh_token"]}, pair["access_token"])
    assert status == 204, status
    revoked = time.perf_counter()
    n = 0
    while True:
        n += 1
        status, _ = call(on_b, "GET", "/users/me", token=pair["access_token"])
        if status == 401:
            break
        assert status == 200, status
        assert time.perf_counter() - revoked < 5, "never refused"
    took.append((time.perf_counter() - revoked) * 1000)
    polls.append(n)
took.sort()
p99 = took[int(len(took) * 0.99) - 1]
print(f"logout on A -> refused on B: p50 {statistics.median(took):.1f} ms, p99 {p99:.1f} ms, max {took[-1]:.1f} ms "
      f"(requests to B until refused: median {statistics.median(polls):.0f}, max {max(polls)})")
PY

python3 - "$dir/figures" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
print("\ns3 / fs, median over rounds:")
for i, name in enumerate(["upload 1 MB", "cached thumbnail"], start=1):
    fs = statistics.median(float(r[i]) for r in rows if r[0] == "fs")
    s3 = statistics.median(float(r[i]) for r in rows if r[0] == "s3")
    print(f"  {name:17} fs {fs:9.1f}  s3 {s3:9.1f}  {s3 / fs:5.2f}x")
PY
