#!/usr/bin/env bash
# `make client-check`: generates a Python client from our OpenAPI document with
# openapi-python-client (from PyPI) and runs a day-one scenario with it against a live
# server on a throwaway PostgreSQL: register, login, upload, list, thumbnail, share link.
# The only configuration maps image/* answers to binary (`File`); the code is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v openapi-python-client >/dev/null 2>&1 || python3 -m pip install -q openapi-python-client
scripts/need.sh build
cargo build --quiet -p gallery-server
. scripts/live.sh
live_start ./target/debug/gallery
./target/debug/gallery openapi >"$LIVE_DIR/openapi.json"
cat >"$LIVE_DIR/client.yml" <<'YML'
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/gif: application/octet-stream
  image/webp: application/octet-stream
YML
openapi-python-client generate --path "$LIVE_DIR/openapi.json" --config "$LIVE_DIR/client.yml" --meta none \
  --output-path "$LIVE_DIR/client/gallery_client"
PYTHONPATH="$LIVE_DIR/client" python3 scripts/client_scenario.py "$LIVE_URL" "$LIVE_ADMIN" "$LIVE_PASSWORD"
