#!/usr/bin/env bash
# `make bench`, the web app (issue #15), in Debian's chromium against the release build
# (tests/browser/test_figures.py), BENCH_ROUNDS times, each on a fresh server and database:
# bytes of JavaScript and CSS on first load (target under 100 KB decoded), and the time from
# opening the app (signed in) until a screen of 100 thumbnails is painted: with thumbnails
# not yet made, made but not in the browser's cache, and in it. No target for the time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/need.sh build
cargo build --release --quiet -p gallery-server
for round in $(seq 1 "${BENCH_ROUNDS:-3}"); do
  GALLERY_BINARY=./target/release/gallery scripts/browser-test.sh -k figures -q >/dev/null 2>&1 ||
    { echo "round $round: the figures test failed" >&2; exit 1; }
  echo "round $round: $(tr -d '\n' <target/browser/figures.json | tr -s ' ')"
done
