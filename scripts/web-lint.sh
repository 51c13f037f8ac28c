#!/usr/bin/env bash
# `make lint`, web half: type-checks the app's JavaScript from its JSDoc types (tsc
# --checkJs; the service worker on its own, as its globals differ) and checks formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-tools.sh
cd crates/web
node_modules/.bin/tsc -p jsconfig.json
node_modules/.bin/tsc -p jsconfig.worker.json
node_modules/.bin/prettier --check --log-level warn app
echo "web app: types and formatting ok" >&2
