#!/usr/bin/env bash
# `make run`: the server on DATABASE_URL, or on a private PostgreSQL cluster under
# .data/postgres that is initialised on first use. `scripts/run.sh migrate` only migrates.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh

if [ -z "${DATABASE_URL:-}" ]; then
  pg_ensure_installed
  port=${GALLERY_DEV_PG_PORT:-55432}
  dir=$(pg_dev_dir)
  if ! pg_as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "starting the private PostgreSQL in $dir on port $port" >&2
    pg_start "$dir" "$port"
  fi
  if ! "$(pg_bin)/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gallery'" | grep -q 1; then
    "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE gallery"
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/gallery"
fi

scripts/need.sh build
cargo build --quiet -p gallery-server
./target/debug/gallery migrate
[ "${1:-}" = migrate ] && exit 0

host=${GALLERY__SERVER__HOST:-127.0.0.1}
port=${GALLERY__SERVER__PORT:-8080}
cat >&2 <<MSG

  Gallery is starting on http://$host:$port   (the web app; API under /api/v1, docs at /docs)
  Create an admin in another terminal:
    GALLERY_ADMIN_PASSWORD='choose-a-password' DATABASE_URL=$DATABASE_URL ./target/debug/gallery create-admin --username admin

MSG
exec ./target/debug/gallery serve
