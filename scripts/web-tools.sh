#!/usr/bin/env bash
# `scripts/web-tools.sh`: the web app's tools from npm (TypeScript for type checks, Prettier,
# axe-core for the browser tests), pinned by crates/web/package-lock.json and installed
# into crates/web/node_modules once. The app itself needs none of them to run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/need.sh node:nodejs npm
web=crates/web
if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "installing the web app's tools (npm ci)..." >&2
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error >&2
fi
