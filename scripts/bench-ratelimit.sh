#!/usr/bin/env bash
# What counting rate limits in PostgreSQL costs (part of `make bench`): GET /l/{token} of a
# 640x480 PNG's original, wrk -c32 from one address (so every request updates the same
# `rate_limits` row), with rate limits off, on (a quota too large to reach) and spent
# (60 a minute: nearly every answer a 429, refused from memory), alternated over
# BENCH_ROUNDS rounds (2 default).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh

DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
scripts/need.sh wrk build
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
cargo build --release --quiet -p gallery-server
live_start ./target/release/gallery
live_psql -c "INSERT INTO subscriptions (user_id, plan_id) SELECT u.id, p.id FROM users u, plans p WHERE u.username = '$LIVE_ADMIN' AND p.code = 'enterprise'"
token=$(live_token)
python3 -c "from PIL import Image; Image.new('RGB', (640, 480), (90, 120, 200)).save('$LIVE_DIR/l.png')"
id=$(curl -fsS -X POST "$LIVE_URL/api/v1/images" -H "Authorization: Bearer $token" -F "file=@$LIVE_DIR/l.png;type=image/png" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
url=$(curl -fsS -X POST "$LIVE_URL/api/v1/images/$id/links" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' -d '{"expires_in": 3600}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
link="$LIVE_URL/${url#*://*/}"
echo "== GET /l/{token}, ${DURATION}s each, HEAD $(git rev-parse --short HEAD)"
for round in $(seq 1 "$ROUNDS"); do
  for mode in off on spent; do
    kill "$LIVE_PID"
    wait "$LIVE_PID" 2>/dev/null || true
    if [ "$mode" = on ]; then
      export GALLERY__RATE_LIMIT__ENABLED=true GALLERY__RATE_LIMIT__LINKS_PER_MINUTE=4000000000
    elif [ "$mode" = spent ]; then
      export GALLERY__RATE_LIMIT__ENABLED=true GALLERY__RATE_LIMIT__LINKS_PER_MINUTE=60
      live_psql -c "TRUNCATE rate_limits"
    else
      export GALLERY__RATE_LIMIT__ENABLED=false
    fi
    live_serve
    curl -sS -o /dev/null "$link"
    printf 'round %s, rate limits %-3s ' "$round" "$mode"
    wrk -t2 -c32 -d"${DURATION}s" "$link" |
      awk '/Requests\/sec/ {rps = $2} /Non-2xx/ {bad = $NF} END {printf "%9.0f req/s  non-2xx %s\n", rps, bad + 0}'
  done
done
