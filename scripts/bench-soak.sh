#!/usr/bin/env bash
# Memory under sustained load, nobody scraping /metrics (part of `make bench`): a release
# build serves `GET /api/v1/users/me` (authenticated, recorded in the request histograms)
# to wrk -c32 in rounds of BENCH_SOAK_ROUND seconds (default 30) until BENCH_REQUESTS
# (default 10,000,000) have been answered; the server's RSS after each round. Target: RSS
# growth after the first round (warm-up) ≤ 10 MB. BENCH_BINARY runs another build.
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${BENCH_REQUESTS:-10000000}
ROUND=${BENCH_SOAK_ROUND:-30}
scripts/need.sh wrk build
if [ -z "${BENCH_BINARY:-}" ]; then
  cargo build --release --quiet -p gallery-server
  BENCH_BINARY=./target/release/gallery
fi
. scripts/live.sh
live_start "$BENCH_BINARY"
token=$(live_token)
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$LIVE_PID/status"; }
done_requests=0 round=0 first=""
printf '%-6s %12s %10s\n' round requests "RSS MB"
while [ "$done_requests" -lt "$TOTAL" ]; do
  round=$((round + 1))
  n=$(wrk -t2 -c32 -d"${ROUND}s" -H "Authorization: Bearer $token" "$LIVE_URL/api/v1/users/me" |
    awk '/requests in/ {print $1}')
  done_requests=$((done_requests + n))
  now=$(rss)
  [ -n "$first" ] || first=$now
  printf '%-6s %12s %10s\n' "$round" "$done_requests" "$now"
done
python3 -c "print(f'RSS growth after the first round: {$now - $first:.1f} MB over {$done_requests - 0:,} requests')"
