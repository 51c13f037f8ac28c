# Two release builds served one after the other on one throwaway PostgreSQL, for
# benchmarks that compare HEAD with a base revision; source this file, then
# `side_by_side_start BASE`. Sets SBS_DIR (the throwaway folder), SBS_PORT (where `sbs_serve`
# serves), SBS_PSQL (an array: psql on the cluster); binaries land in SBS_DIR/gallery-base
# and SBS_DIR/gallery-head. `sbs_serve LABEL BINARY` gives the build a fresh database and
# storage root, an admin `bench` on the enterprise plan, serves it and sets SBS_TOKEN;
# `sbs_stop` stops it; `sbs_photo W H QUALITY` makes a photo and its upload body (needs
# scripts/bench-upload.sh). Everything is removed when the calling script exits.
. scripts/pg.sh
. scripts/wrk.sh

side_by_side_start() {
  local base=$1 root=$PWD
  pg_ensure_installed
  SBS_DIR=$(mktemp -d /tmp/gallery-bench-sbs.XXXXXX)
  chmod 755 "$SBS_DIR"
  SBS_PID=""
  trap 'sbs_cleanup' EXIT INT TERM
  # Both builds share target/ (and so every dependency); each binary is copied out. The
  # workspace's own crates are cleaned before each build: cargo names a path package's
  # outputs alike from either checkout and would take one checkout's for the other's.
  sbs_clean_own
  cargo build --release --quiet -p gallery-server
  cargo build --release --quiet -p gallery-imaging --example make_fixture
  cp target/release/gallery "$SBS_DIR/gallery-head"
  git worktree add --quiet --detach "$SBS_DIR/base" "$base"
  sbs_clean_own
  (cd "$SBS_DIR/base" && CARGO_TARGET_DIR="$root/target" cargo build --release --quiet -p gallery-server)
  cp target/release/gallery "$SBS_DIR/gallery-base"
  sbs_clean_own # so that HEAD's next release build makes its own crates again
  local pgport
  pgport=$(free_port)
  pg_start "$SBS_DIR/pg" "$pgport" -c max_connections=200
  SBS_PGPORT=$pgport
  SBS_PSQL=("$(pg_bin)/psql" -qX -h 127.0.0.1 -p "$pgport" -U postgres)
  SBS_PORT=$(free_port)
  export GALLERY_ENV=development GALLERY__LOG__FILTER=warn GALLERY__RATE_LIMIT__ENABLED=false
  export GALLERY__SERVER__MAX_UPLOADS_PER_USER=64
}

# A photo-like JPEG (scripts/thumbnail_fixtures.py's scene), W×H at QUALITY, in
# SBS_DIR/photo.jpg, and the multipart body of its upload in SBS_DIR/body.
sbs_photo() { # width height quality
  python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
  python3 - "$SBS_DIR/photo.jpg" "$@" <<'PY'
import sys
sys.path.insert(0, "scripts")
from thumbnail_fixtures import photo
path, w, h, quality = sys.argv[1], *map(int, sys.argv[2:])
photo(w, h).save(path, "JPEG", quality=quality)
PY
  multipart "$SBS_DIR/photo.jpg" "$SBS_DIR/body"
}

# Removes the release outputs of the workspace's own crates (dependencies stay).
sbs_clean_own() {
  local members
  members=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(" ".join("-p " + p["name"] for p in json.load(sys.stdin)["packages"]))')
  # shellcheck disable=SC2086
  cargo clean --release --quiet $members
}

sbs_serve() { # label binary
  local label=$1 binary=$2 db="g_$1"
  "${SBS_PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  rm -rf "$SBS_DIR/images-$label"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$SBS_PGPORT/$db" GALLERY__STORAGE__ROOT="$SBS_DIR/images-$label"
  { "$binary" migrate && GALLERY_ADMIN_PASSWORD=quiet-harbour-lamp-7 "$binary" create-admin --username bench; } \
    >"$SBS_DIR/setup.log" 2>&1 || { cat "$SBS_DIR/setup.log" >&2; exit 1; }
  "${SBS_PSQL[@]}" -d "$db" -c "INSERT INTO subscriptions (user_id, plan_id) SELECT u.id, p.id FROM users u, plans p WHERE u.username = 'bench' AND p.code = 'enterprise'"
  GALLERY__SERVER__PORT=$SBS_PORT "$binary" serve 2>>"$SBS_DIR/server-$label.log" &
  SBS_PID=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$SBS_PORT/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  SBS_TOKEN=$(curl -fsS -X POST "http://127.0.0.1:$SBS_PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"quiet-harbour-lamp-7"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}

sbs_stop() {
  [ -z "$SBS_PID" ] || { kill "$SBS_PID" 2>/dev/null; wait "$SBS_PID" 2>/dev/null || true; SBS_PID=""; }
}

sbs_cleanup() {
  sbs_stop
  pg_stop "$SBS_DIR/pg"
  git worktree remove --force "$SBS_DIR/base" >/dev/null 2>&1 || true
  rm -rf "$SBS_DIR"
}
