#!/usr/bin/env bash
# Issue #26 item 13 (part of `make bench`): what traces cost. One release build serving
# GET /api/v1/users/me and a cached 200 px thumbnail with wrk -c32: with no
# `telemetry.otlp_endpoint` (off: nothing traced), with one and every request traced (all),
# and with one tracing a tenth of the requests (`telemetry.sample_ratio` 0.1); spans go to a
# collector that costs next to nothing (nginx answering 200 to every POST). The three
# alternate over BENCH_ROUNDS rounds (3) of BENCH_SECONDS (10). Target: traces on ≤ 10 %.
# Also the spans sent and dropped in each traced run, from /metrics. (Off against the build
# before traces: scripts/bench-house.sh with BENCH_BASE.) Logs at BENCH_LOG_FILTER (`warn`;
# `info` writes every request's access line, as production does).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh
. scripts/wrk.sh

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
scripts/need.sh wrk build nginx
cargo build --release --quiet -p gallery-server
live_start target/release/gallery
export GALLERY__LOG__FILTER=${BENCH_LOG_FILTER:-warn}
dir=$LIVE_DIR
token=$(live_token)
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
python3 -c 'from PIL import Image; Image.new("RGB", (640, 480), (90, 140, 200)).save("'"$dir"'/photo.jpg", quality=90)'
id=$(curl -fsS -X POST "$LIVE_URL/api/v1/images" -H "Authorization: Bearer $token" -F "file=@$dir/photo.jpg" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

mkdir -p "$dir/nginx-tmp"
collector_port=$(free_port)
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  client_max_body_size 64m;
  server { listen 127.0.0.1:$collector_port; location = /v1/traces { return 200; } }
}
CONF
nginx -c "$dir/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true; live_stop' EXIT INT TERM

metric() { curl -fsS "$LIVE_URL/metrics" | awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}'; }
run() { # off|all|tenth
  case $1 in
  off) unset GALLERY__TELEMETRY__OTLP_ENDPOINT GALLERY__TELEMETRY__SAMPLE_RATIO ;;
  all) export GALLERY__TELEMETRY__OTLP_ENDPOINT="http://127.0.0.1:$collector_port" GALLERY__TELEMETRY__SAMPLE_RATIO=1 ;;
  tenth) export GALLERY__TELEMETRY__OTLP_ENDPOINT="http://127.0.0.1:$collector_port" GALLERY__TELEMETRY__SAMPLE_RATIO=0.1 ;;
  esac
  kill "$LIVE_PID" && wait "$LIVE_PID" 2>/dev/null || true
  live_serve
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$LIVE_URL/api/v1/images/$id/thumbnails/200"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $token" "$LIVE_URL/api/v1/users/me" >"$dir/me.txt"
  wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Bearer $token" "$LIVE_URL/api/v1/images/$id/thumbnails/200" >"$dir/thumb.txt"
  local kind
  for kind in me thumb; do
    [ "$(non2xx "$dir/$kind.txt")" = 0 ] || echo "WARNING: $1 $kind: $(non2xx "$dir/$kind.txt") non-2xx answers"
  done
  local exported dropped
  exported=$(metric gallery_trace_spans_exported_total)
  dropped=$(metric gallery_trace_spans_dropped_total)
  printf '%-5s GET /users/me %8.0f/s  cached thumbnail %8.0f/s  spans sent %9.0f dropped %9.0f\n' \
    "$1" "$(rps "$dir/me.txt")" "$(rps "$dir/thumb.txt")" "$exported" "$dropped"
  echo "$1 $(rps "$dir/me.txt") $(rps "$dir/thumb.txt")" >>"$dir/figures"
}

echo "== traces off, on for every request, on for a tenth: HEAD $(git rev-parse --short HEAD), ${DURATION}s each, wrk -c32, logs at $GALLERY__LOG__FILTER"
for round in $(seq 1 "$ROUNDS"); do
  case $((round % 3)) in
  1) run off; run all; run tenth ;;
  2) run all; run tenth; run off ;;
  0) run tenth; run off; run all ;;
  esac
done
python3 - "$dir/figures" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
for i, name in enumerate(["GET /users/me", "cached thumbnail"], start=1):
    median = {mode: statistics.median(float(r[i]) for r in rows if r[0] == mode) for mode in ("off", "all", "tenth")}
    print(f"{name:18} off {median['off']:8.0f}/s  all {median['all']:8.0f}/s ({median['all'] / median['off']:4.2f})"
          f"  a tenth {median['tenth']:8.0f}/s ({median['tenth'] / median['off']:4.2f})")
PY
