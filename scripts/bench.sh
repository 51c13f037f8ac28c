#!/usr/bin/env bash
# `make bench`: requests per second of GET /api/v1/users/me (release build, wrk, 32
# connections) next to `pgbench -S -c 32` on the same throwaway cluster, in one run, and
# the ratio between them. The endpoint does one indexed lookup, so the database is its
# ceiling; the target is a ratio of at least 0.5.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh

DURATION=${BENCH_SECONDS:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}

scripts/need.sh wrk nasm
cargo build --release --quiet -p gallery-server
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
print(f"\nmedian ratio GET /users/me : pgbench -S = {ratio:.2f} (target >= 0.50): {'MET' if ratio >= 0.5 else 'NOT MET'}")
PY
