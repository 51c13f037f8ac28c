#!/usr/bin/env bash
# `make test`: every test, against a throwaway PostgreSQL and a throwaway S3 server
# (s3s-fs) started here and removed after. The end-to-end suite runs twice: with images on
# the file system, then in a bucket. Last, the web app in a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
. scripts/s3.sh

pg_ensure_installed
s3_bin >/dev/null # installs s3s-fs once, before the clock of any test starts
dir=$(mktemp -d /tmp/gallery-test-pg.XXXXXX)
s3dir=$(mktemp -d /tmp/gallery-test-s3.XXXXXX)
chmod 755 "$dir"
cleanup() { pg_stop "$dir"; s3_stop "$s3dir"; rm -rf "$dir" "$s3dir"; }
trap cleanup EXIT INT TERM

port=$(free_port)
# Durability buys nothing here: fsync off makes CREATE DATABASE per test cheap.
pg_start "$dir" "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300
admin_url="postgres://postgres@127.0.0.1:$port/postgres"
echo "test PostgreSQL on port $port" >&2

scripts/need.sh build exiftool:libimage-exiftool-perl heif-enc:libheif-examples avifenc:libavif-bin # exiftool writes the location the tests strip; heif-enc and avifenc make HEIC and AVIF
# Build once, then migrate the template every test database is cloned from.
cargo build --workspace --all-targets --quiet
"$(pg_bin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE gallery_tpl"
DATABASE_URL="postgres://postgres@127.0.0.1:$port/gallery_tpl" GALLERY_ENV=test ./target/debug/gallery migrate

s3port=$(free_port)
s3_start "$s3dir" "$s3port"
echo "test S3 server (s3s-fs) on port $s3port" >&2

export GALLERY_TEST_DATABASE_URL=$admin_url
export GALLERY_TEST_S3_ENDPOINT="http://127.0.0.1:$s3port" GALLERY_TEST_S3_ROOT="$s3dir/data"
run_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --no-fail-fast "$@"
  else
    cargo test --no-fail-fast "$@"
  fi
}
run_tests --workspace "$@"
echo "the end-to-end suite again, with storage.backend = s3" >&2
GALLERY_TEST_STORAGE=s3 run_tests -p gallery-e2e "$@"
echo "the web app in a real browser (scripts/browser-test.sh)" >&2
scripts/browser-test.sh
