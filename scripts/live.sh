# A live server on a throwaway PostgreSQL, for scripts that talk to the API over HTTP
# (`make client-check`, `make fuzz`, the benchmarks); source this file, then
# `live_start BINARY`. Sets LIVE_URL (the server's base URL), LIVE_DIR (the throwaway folder;
# images are stored in LIVE_DIR/images), LIVE_PGPORT, LIVE_PID, LIVE_ADMIN and LIVE_PASSWORD
# (an admin's credentials; `live_token` logs it in); `live_psql` runs psql on the database;
# `live_restart` starts the server afresh. Everything is stopped and removed when the
# calling script exits. The server inherits the caller's environment (GALLERY__* settings);
# LIVE_MAX_CONNECTIONS sizes the cluster (default 100).
. scripts/pg.sh

live_start() {
  local binary=$1
  pg_ensure_installed
  LIVE_DIR=$(mktemp -d /tmp/gallery-live.XXXXXX)
  chmod 755 "$LIVE_DIR"
  LIVE_PID=""
  trap 'live_stop' EXIT INT TERM
  local pgport port
  pgport=$(free_port)
  pg_start "$LIVE_DIR" "$pgport" -c fsync=off -c max_connections="${LIVE_MAX_CONNECTIONS:-100}"
  LIVE_PGPORT=$pgport
  "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -c "CREATE DATABASE gallery"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/gallery"
  export GALLERY_ENV=development GALLERY__LOG__FILTER=warn GALLERY__STORAGE__ROOT="$LIVE_DIR/images"
  export GALLERY__RATE_LIMIT__ENABLED=false
  "$binary" migrate >/dev/null
  LIVE_ADMIN=admin LIVE_PASSWORD=copper-lantern-field-9
  GALLERY_ADMIN_PASSWORD=$LIVE_PASSWORD "$binary" create-admin --username "$LIVE_ADMIN" >/dev/null 2>&1
  LIVE_BINARY=$binary
  port=$(free_port)
  LIVE_URL="http://127.0.0.1:$port"
  live_serve
}

live_serve() {
  GALLERY__SERVER__PORT=${LIVE_URL##*:} "$LIVE_BINARY" serve 2>>"$LIVE_DIR/server.log" &
  LIVE_PID=$!
  for _ in $(seq 1 100); do curl -fsS "$LIVE_URL/health/ready" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server did not become ready; its log:" >&2
  cat "$LIVE_DIR/server.log" >&2
  return 1
}

# Stops the server, empties its image store, and starts it again on the same address.
live_restart() {
  kill "$LIVE_PID" 2>/dev/null || true
  wait "$LIVE_PID" 2>/dev/null || true
  rm -rf "$LIVE_DIR/images"
  live_serve
}

# psql on the live database (or another, with -d NAME after).
live_psql() {
  "$(pg_bin)/psql" -qX -h 127.0.0.1 -p "$LIVE_PGPORT" -U postgres -d gallery "$@"
}

# Prints an access token: `live_token` for the live admin, `live_token NAME PASSWORD` for
# another user.
live_token() {
  local name=${1:-$LIVE_ADMIN} password=${2:-$LIVE_PASSWORD}
  curl -fsS -X POST "$LIVE_URL/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

live_stop() {
  [ -z "${LIVE_PID:-}" ] || kill "$LIVE_PID" 2>/dev/null || true
  [ -z "${LIVE_DIR:-}" ] || { pg_stop "$LIVE_DIR"; rm -rf "$LIVE_DIR"; }
}
