#!/usr/bin/env bash
# `make test`: every test, against a throwaway PostgreSQL started here and removed after.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh

pg_ensure_installed
dir=$(mktemp -d /tmp/gallery-test-pg.XXXXXX)
chmod 755 "$dir"
cleanup() { pg_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

port=$(free_port)
# Durability buys nothing here: fsync off makes CREATE DATABASE per test cheap.
pg_start "$dir" "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300
admin_url="postgres://postgres@127.0.0.1:$port/postgres"
echo "test PostgreSQL on port $port" >&2

scripts/need.sh nasm
# Build once, then migrate the template every test database is cloned from.
cargo build --workspace --all-targets --quiet
"$(pg_bin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE gallery_tpl"
DATABASE_URL="postgres://postgres@127.0.0.1:$port/gallery_tpl" GALLERY_ENV=test ./target/debug/gallery migrate

export GALLERY_TEST_DATABASE_URL=$admin_url
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
