#!/usr/bin/env bash
# Issue #26 item 7 (part of `make bench`): the cache listener, frozen and starved. HEAD next
# to a base revision (BENCH_BASE, default 8559b8f: the listener on the HTTP workers, a 1 s
# heartbeat and 2 s to answer), each as two servers A and B on one PostgreSQL:
# - frozen: every listener's backend stopped with SIGSTOP, a session revoked on A (logout);
#   how long B keeps accepting its token (polled every 5 ms), BENCH_TRIES times (5);
# - starved: wrk -c64 on B's GET /users/me for BENCH_SECONDS (20) with A's and B's
#   workers competing for both cores; B's req/s, and how often its listener dropped its
#   connection (forgetting every copy) or let its lease lapse, from /metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/side-by-side.sh

DURATION=${BENCH_SECONDS:-20}
TRIES=${BENCH_TRIES:-5}
BASE=${BENCH_BASE:-8559b8f}
scripts/need.sh wrk build
side_by_side_start "$BASE"
dir=$SBS_DIR

login() { # port
  curl -fsS -X POST "http://127.0.0.1:$1/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"quiet-harbour-lamp-7"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
listeners() { "${SBS_PSQL[@]}" -d postgres -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'gallery cache listener'"; }
metric() { # port name
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2; found=1} END {if (!found) print "-"}'
}

run() { # label binary
  local label=$1 binary=$2 b_port b_pid token started elapsed
  sbs_serve "$label" "$binary"
  b_port=$(free_port)
  GALLERY__SERVER__PORT=$b_port "$binary" serve 2>>"$dir/server-$label-b.log" &
  b_pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$b_port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  for _ in $(seq 1 100); do [ "$(listeners | wc -l)" = 2 ] && break; sleep 0.1; done

  : >"$dir/stale-$label"
  for _ in $(seq 1 "$TRIES"); do
    token=$(login "$SBS_PORT")
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$b_port/api/v1/users/me"
    # shellcheck disable=SC2046
    kill -STOP $(listeners)
    curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'content-type: application/json' \
      -d '{}' "http://127.0.0.1:$SBS_PORT/api/v1/auth/logout"
    started=$(date +%s%N)
    while curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$b_port/api/v1/users/me" 2>/dev/null; do
      sleep 0.005
    done
    elapsed=$((($(date +%s%N) - started) / 1000000))
    # shellcheck disable=SC2046
    kill -CONT $(listeners)
    echo "$elapsed" >>"$dir/stale-$label"
    for _ in $(seq 1 100); do [ "$(metric "$b_port" gallery_cache_live)" = 1 ] && break; sleep 0.1; done
  done

  token=$(login "$b_port")
  local drops0 lapses0
  drops0=$(metric "$b_port" gallery_cache_listener_drops_total)
  lapses0=$(metric "$b_port" gallery_cache_lease_lapses_total)
  wrk -t2 -c64 -d"${DURATION}s" -H "Authorization: Bearer $token" "http://127.0.0.1:$b_port/api/v1/users/me" >"$dir/me-$label.txt"
  local drops lapses
  drops=$(metric "$b_port" gallery_cache_listener_drops_total)
  lapses=$(metric "$b_port" gallery_cache_lease_lapses_total)
  kill "$b_pid"
  wait "$b_pid" 2>/dev/null || true
  sbs_stop
  [ "$(non2xx "$dir/me-$label.txt")" = 0 ] || echo "WARNING: $label: $(non2xx "$dir/me-$label.txt") non-2xx answers"
  python3 - "$label" "$dir/stale-$label" "$(rps "$dir/me-$label.txt")" "$drops0" "$drops" "$lapses0" "$lapses" <<'PY'
import statistics, sys
label, stale, rps, d0, d1, l0, l1 = sys.argv[1:]
ms = sorted(int(x) for x in open(stale))
diff = lambda a, b: "-" if "-" in (a, b) else str(int(float(b)) - int(float(a)))
print(f"{label:5} frozen listener: a revoked token still accepted for {statistics.median(ms):5.0f} ms median"
      f" (max {max(ms)} ms, {len(ms)} tries) | under wrk -c64: {float(rps):8.0f} req/s,"
      f" listener drops {diff(d0, d1)}, lease lapses {diff(l0, l1)}")
PY
}

echo "== base $BASE vs HEAD $(git rev-parse --short HEAD): two servers on one PostgreSQL, release builds"
run base "$dir/gallery-base"
run head "$dir/gallery-head"
