#!/usr/bin/env bash
# `make bench`, the hot paths (release build, wrk, 32 connections), each next to a
# reference on the same machine in one run, alternated over rounds, median of the ratios:
# - GET /api/v1/users/me next to `pgbench -S -c 32` on the same throwaway cluster. The
#   session and the user are served from memory (kept true by LISTEN/NOTIFY), so the
#   target is a ratio of at least 1.0: faster than the database's simplest query.
# - a cached 200 px thumbnail next to nginx serving the same file with sendfile (Debian's
#   nginx, installed here when missing); target at least 0.3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh
. scripts/bench-upload.sh

DURATION=${BENCH_SECONDS:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}

scripts/need.sh wrk build nginx
cargo build --release --quiet -p gallery-server
cargo build --release --quiet -p gallery-imaging --example make_fixture
[ -z "${BENCH_POOL:-}" ] || export GALLERY__DATABASE__MAX_CONNECTIONS=$BENCH_POOL
LIVE_MAX_CONNECTIONS=200 live_start ./target/release/gallery
dir=$LIVE_DIR pgport=$LIVE_PGPORT
live_psql -c "CREATE DATABASE pgbench"
token=$(live_token)

"$(pg_bin)/pgbench" -q -i -s 10 -h 127.0.0.1 -p "$pgport" -U postgres pgbench >/dev/null 2>&1
# The machine is shared and noisy: alternate the two loads for several rounds and take
# the median of the per-round ratios.
ROUNDS=${BENCH_ROUNDS:-3}
: >"$dir/ratios"
for round in $(seq 1 "$ROUNDS"); do
  pg_tps=$("$(pg_bin)/pgbench" -S -c "$CONNECTIONS" -j 2 -T "$DURATION" -h 127.0.0.1 -p "$pgport" -U postgres pgbench 2>/dev/null \
    | awk '/^tps/ {print $3; exit}')
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" \
    "$LIVE_URL/api/v1/users/me" >"$dir/wrk.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.txt")
  [ -z "$non2xx" ] || echo "WARNING: $non2xx non-2xx responses"
  echo "$rps $pg_tps" >>"$dir/ratios"
  printf 'round %d: pgbench -S -c %d: %8.0f tps | GET /users/me, wrk -c%d: %8.0f req/s (p50 %s, p99 %s) | ratio %.2f\n' \
    "$round" "$CONNECTIONS" "$pg_tps" "$CONNECTIONS" "$rps" "$p50" "$p99" "$(python3 -c "print($rps / $pg_tps)")"
done

python3 - "$dir/ratios" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
ratio = statistics.median(r / t for r, t in rows)
print(f"\nmedian ratio GET /users/me : pgbench -S = {ratio:.2f} (target >= 1.00): {'MET' if ratio >= 1.0 else 'NOT MET'}")
PY

echo
echo "== a cached thumbnail next to nginx serving the same file with sendfile"
./target/release/examples/make_fixture "$dir/photo.jpg" 1200 900
multipart "$dir/photo.jpg" "$dir/body"
id=$(curl -fsS -X POST "$LIVE_URL/api/v1/images" -H "Authorization: Bearer $token" \
  -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/body" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
thumbnail="$LIVE_URL/api/v1/images/$id/thumbnails/200"
mkdir -p "$dir/static" "$dir/nginx-tmp"
curl -fsS -H "Authorization: Bearer $token" "$thumbnail" -o "$dir/static/thumbnail.jpg"
nginx_port=$(free_port)
cat >"$dir/nginx.conf" <<CONF
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/jpeg jpg; }
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  server { listen 127.0.0.1:$nginx_port; root $dir/static; }
}
CONF
nginx -c "$dir/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true; live_stop' EXIT INT TERM
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$nginx_port/thumbnail.jpg" -o /dev/null 2>/dev/null && break; sleep 0.1; done
cmp "$dir/static/thumbnail.jpg" <(curl -fsS "http://127.0.0.1:$nginx_port/thumbnail.jpg") || { echo "nginx serves another file" >&2; exit 1; }
: >"$dir/ratios"
for round in $(seq 1 "$ROUNDS"); do
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$nginx_port/thumbnail.jpg" >"$dir/wrk.txt"
  nginx_rps=$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$thumbnail" >"$dir/wrk.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.txt")
  [ -z "$non2xx" ] || echo "WARNING: $non2xx non-2xx responses"
  echo "$rps $nginx_rps" >>"$dir/ratios"
  printf 'round %d: nginx sendfile: %8.0f req/s | cached thumbnail: %8.0f req/s (p50 %s, p99 %s) | ratio %.3f\n' \
    "$round" "$nginx_rps" "$rps" "$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")" \
    "$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")" "$(python3 -c "print($rps / $nginx_rps)")"
done
python3 - "$dir/ratios" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
ratio = statistics.median(r / n for r, n in rows)
print(f"\nmedian ratio cached thumbnail : nginx sendfile = {ratio:.3f} (target >= 0.30): {'MET' if ratio >= 0.3 else 'NOT MET'}")
PY
