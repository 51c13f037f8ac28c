#!/usr/bin/env bash
# Listing images at scale (part of `make bench`): BENCH_IMAGES rows (200 000 default) put
# straight into the table, then the median time of 5 requests per listing, through a
# release server: the first page as an admin and as a viewer (who sees approved images and
# their own), a deep page, both title sorts and a search.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh
ROWS=${BENCH_IMAGES:-200000}

scripts/need.sh nasm curl
cargo build --release --quiet -p gallery-server
live_start target/release/gallery
admin=$(live_token)
curl -fsS -X POST "$LIVE_URL/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"amber-kettle-route-3","password_confirm":"amber-kettle-route-3","role":"company_user"}' >/dev/null
viewer=$(live_token viewer amber-kettle-route-3)
# One in ten pending; titles and descriptions carry words to search for.
"$(pg_bin)/psql" -q -h 127.0.0.1 -p "$LIVE_PGPORT" -U postgres -d gallery \
  -c "INSERT INTO images (title, description, status, uploaded_by, width, height, format, size_bytes, sha256, storage_key, uploaded_at)
      SELECT (ARRAY['sunset', 'harbour', 'forest', 'portrait', 'city'])[1 + g % 5] || ' ' || g,
             'shot ' || g || ' of ' || (ARRAY['spring', 'summer', 'autumn', 'winter'])[1 + g % 4],
             CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'approved' END,
             (SELECT id FROM users WHERE username = '$LIVE_ADMIN'), 100, 100, 'png', 1000,
             sha256(g::text::bytea), 'bench/' || g, now() - (g || ' seconds')::interval
      FROM generate_series(1, $ROWS) g" \
  -c "ANALYZE images"
median() { # path token → median seconds of 5 requests
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" "$LIVE_URL/api/v1$1"
  done | sort -n | sed -n 3p
}
echo "GET /images with $ROWS images (median of 5, ms):"
for ask in "admin /images" "viewer /images" "viewer /images?page=5000" "viewer /images?sort=title" \
  "viewer /images?sort=-title&page=3" "viewer /images?q=harbour%2012" "viewer /images?q=autumn" "admin /images?status=pending"; do
  read -r who path <<<"$ask"
  token=$admin; [ "$who" = viewer ] && token=$viewer
  printf '  %-8s %-34s %6.1f\n' "$who" "$path" "$(python3 -c "print($(median "$path" "$token") * 1000)")"
done
