#!/usr/bin/env bash
# Listing images at scale (part of `make bench`): the same listings at 10,000 images and at
# BENCH_IMAGES (1,000,000 default), on one server in one run, put straight into the table;
# the median time of 5 requests each, and the ratio of the large to the small. Targets
# (issue #13): the first page, sort=title (and sort=taken_at either way, #24), status=pending as a moderator, uploaded_by and a
# gallery's images ≤ 1.5×; the 2000th page by cursor ≤ 1.5× the first; a `q` matching a
# fifth of the rows ≤ 3×; a rare `q` ≤ 1.5×. Issue #26: no VACUUM after the bulk loads
# (autovacuum is off for the table, as before its first round; only ANALYZE runs), and a `q`
# of one or two characters ≤ 50 ms at the large size; the large size is measured again
# after a VACUUM, for comparison. Then the write cost of the search indexes: single-row
# inserts per second as migrated (64 kB pending lists, the pieces index), with no pending
# list, with the default 4 MB, and without the pieces index (as before #26).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/live.sh
SMALL=10000
LARGE=${BENCH_IMAGES:-1000000}

scripts/need.sh build curl
cargo build --release --quiet -p gallery-server
live_start target/release/gallery
admin=$(live_token)
register() { # name role
  curl -fsS -X POST "$LIVE_URL/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"amber-kettle-route-3\",\"password_confirm\":\"amber-kettle-route-3\",\"role\":\"$2\"}" >/dev/null
  live_token "$1" amber-kettle-route-3
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
viewer=$(register viewer company_user)
player=$(register player beta_player)
player_id=$(curl -fsS -H "Authorization: Bearer $player" "$LIVE_URL/api/v1/users/me" | json '["id"]')
gallery=$(curl -fsS -X POST "$LIVE_URL/api/v1/galleries" -H "Authorization: Bearer $admin" \
  -H 'content-type: application/json' -d '{"name":"harbours"}' | json '["id"]')

# Rows from..to: one in ten pending; one in five by the player, the rest by the admin; one
# in seven in the gallery; titles and descriptions carry words to search for: `harbour` in
# a fifth of the titles, `lighthouse` in one description per 100,000 rows; two in three
# say when they were taken, spread over ten years, the third says nothing. The newest rows
# are the first ones, so growing the table puts the new rows behind every page measured.
# No VACUUM: a search must not depend on when autovacuum last ran. ANALYZE, which autovacuum
# runs after far fewer changes, gives the planner the table's size.
seed() {
  "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$LIVE_PGPORT" -U postgres -d gallery \
    -c "INSERT INTO images (title, description, status, uploaded_by, gallery_id, width, height, format, size_bytes, sha256, storage_key, uploaded_at, taken_at)
        SELECT (ARRAY['sunset', 'harbour', 'forest', 'portrait', 'city'])[1 + g % 5] || ' ' || g,
               'shot ' || g || ' of ' || (ARRAY['spring', 'summer', 'autumn', 'winter'])[1 + g % 4]
                 || CASE WHEN g % 100000 = 7 THEN ' by the lighthouse' ELSE '' END,
               CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'approved' END,
               CASE WHEN g % 5 = 3 THEN '$player_id'::uuid ELSE (SELECT id FROM users WHERE username = '$LIVE_ADMIN') END,
               CASE WHEN g % 7 = 0 THEN '$gallery'::uuid END,
               100, 100, 'png', 1000, sha256(g::text::bytea), 'bench/' || g, now() - (g || ' seconds')::interval,
               CASE WHEN g % 3 <> 0 THEN timestamptz '2020-01-01' + ((g::bigint * 7919) % 5000000 || ' minutes')::interval END
        FROM generate_series($1, $2) g" \
    -c "ANALYZE images"
}
median() { # path token → median milliseconds of 5 requests
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" "$LIVE_URL/api/v1$1"
  done | sort -n | sed -n 3p | python3 -c 'import sys; print(round(float(sys.stdin.read()) * 1000, 2))'
}
asks=(
  "first page|viewer|/images"
  "sort=title|viewer|/images?sort=title"
  "sort=-taken_at|viewer|/images?sort=-taken_at"
  "sort=taken_at|viewer|/images?sort=taken_at"
  "status=pending, moderator|admin|/images?status=pending"
  "uploaded_by|viewer|/images?uploaded_by=$player_id"
  "a gallery's images|viewer|/galleries/$gallery"
  "2000th page by cursor|viewer|CURSOR"
  "page=2000 (offset)|viewer|/images?page=2000"
  "q: a fifth of the rows|viewer|/images?q=harbour"
  "q: rare|viewer|/images?q=lighthouse"
  "q: 1 letter, most rows|viewer|/images?q=e"
  "q: 2 letters, a fifth|viewer|/images?q=ar"
  "q: 2 letters, rare|viewer|/images?q=gh"
  "q: 1 letter, rare|viewer|/images?q=%C3%A9"
)
declare -A took
measure() { # size: small or large
  # The cursor of the page after row 39,980, the 2000th page of 20 (at the large size only).
  local cursor=""
  [ "$1" = large ] && cursor=$(curl -fsS -H "Authorization: Bearer $viewer" \
    "$LIVE_URL/api/v1/images?per_page=100&page=400" | json '["next"]')
  local ask label who path token
  for ask in "${asks[@]}"; do
    IFS='|' read -r label who path <<<"$ask"
    if [ "$path" = CURSOR ]; then
      [ -n "$cursor" ] || continue
      path="/images?cursor=$cursor"
    fi
    token=$viewer; [ "$who" = admin ] && token=$admin
    took[$1,$label]=$(median "$path" "$token")
  done
}
psql_g() { "$(pg_bin)/psql" -qtA -h 127.0.0.1 -p "$LIVE_PGPORT" -U postgres -d gallery "$@"; }
psql_g -c "ALTER TABLE images SET (autovacuum_enabled = false)"
seed 1 "$SMALL"
measure small
started=$(date +%s%N)
seed $((SMALL + 1)) "$LARGE"
seeded_ms=$((($(date +%s%N) - started) / 1000000))
measure large
declare -A before_vacuum
for key in "${!took[@]}"; do before_vacuum[$key]=${took[$key]}; done
psql_g -c "VACUUM ANALYZE images"
measure large
printf 'GET /images at %s and %s images (median of 5 requests, ms), the large right after its bulk load\n' "$SMALL" "$LARGE"
printf '(no VACUUM: ratio large/small) and once vacuumed:\n'
printf '  %-28s %8s %8s %7s %9s\n' "" small large ratio vacuumed
for ask in "${asks[@]}"; do
  IFS='|' read -r label _ path <<<"$ask"
  if [ "$path" = CURSOR ]; then
    printf '  %-28s %8s %8.2f %6.2f× %9.2f  (ratio: to the first page)\n' "$label" - "${before_vacuum[large,$label]}" \
      "$(python3 -c "print(${before_vacuum[large,$label]} / ${before_vacuum[large,first page]})")" "${took[large,$label]}"
    continue
  fi
  printf '  %-28s %8.2f %8.2f %6.2f× %9.2f\n' "$label" "${took[small,$label]}" "${before_vacuum[large,$label]}" \
    "$(python3 -c "print(${before_vacuum[large,$label]} / ${took[small,$label]})")" "${took[large,$label]}"
done
printf '  (the %s rows after the first %s loaded in one INSERT … SELECT in %.1f s)\n' \
  "$((LARGE - SMALL))" "$SMALL" "$(python3 -c "print($seeded_ms / 1000)")"

# The write cost: one image row per transaction, four clients, 10 s each way, on the large
# table; one in a hundred rows carries a word of ten letters nowhere else.
admin_id=$(psql_g -c "SELECT id FROM users WHERE username = '$LIVE_ADMIN'")
cat >"$LIVE_DIR/insert.sql" <<SQL
INSERT INTO images (title, description, status, uploaded_by, width, height, format, size_bytes, sha256, storage_key, uploaded_at)
VALUES ('harbour at dusk ' || (random() * 1e9)::int, 'shot of winter by the quay', 'approved', '$admin_id', 100, 100, 'png',
        1000, sha256(gen_random_uuid()::text::bytea), 'bench/' || gen_random_uuid(), now());
SQL
inserts() {
  "$(pg_bin)/pgbench" -n -h 127.0.0.1 -p "$LIVE_PGPORT" -U postgres -c4 -j2 -T10 -f "$LIVE_DIR/insert.sql" gallery |
    awk '/^tps/ {print $3}'
}
both() { psql_g -c "ALTER INDEX images_search_trgm_idx SET ($1)" -c "ALTER INDEX images_search_pieces_idx SET ($1)"; }
echo "Single-row inserts into images (pgbench -c4 -T10), per second:"
printf '  %-58s %8.0f\n' "as migrated (pending lists of 64 kB; the pieces index)" "$(inserts)"
both "fastupdate = off"
printf '  %-58s %8.0f\n' "no pending list (fastupdate off)" "$(inserts)"
both "fastupdate = on, gin_pending_list_limit = 4096"
printf '  %-58s %8.0f\n' "pending lists of 4 MB (the default)" "$(inserts)"
psql_g -c "DROP INDEX images_search_pieces_idx"
printf '  %-58s %8.0f\n' "4 MB, no pieces index (before #26)" "$(inserts)"
