#!/usr/bin/env bash
# The web app in a real browser (part of `make test`): Playwright for Python drives Debian's
# chromium, headless, against a real server on a throwaway PostgreSQL (scripts/live.sh).
# Every page's main flow, axe-core on every page, keyboard use, screenshots and figures.
# SCREENSHOTS=docs/screenshots (`make screenshots`) refreshes the README's pictures; by
# default they go to target/browser/screenshots. GALLERY_BINARY picks the server binary
# (default: the debug build; `make bench` measures the figures with the release build).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-tools.sh
scripts/need.sh chromium build python3 pip3:python3-pip
if ! python3 -c "import playwright, pytest" 2>/dev/null; then
  # Debian's own python3 refuses pip installs outside a venv (PEP 668) unless told.
  want=("playwright==1.65.2" "pytest>=8,<9")
  python3 -m pip install -q --disable-pip-version-check "${want[@]}" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --break-system-packages "${want[@]}"
fi
binary=${GALLERY_BINARY:-./target/debug/gallery}
[ -n "${GALLERY_BINARY:-}" ] || cargo build --quiet -p gallery-server
. scripts/live.sh
live_start "$binary"
rm -f target/browser/figures.json
GALLERY_URL=$LIVE_URL GALLERY_ADMIN=$LIVE_ADMIN GALLERY_ADMIN_PASSWORD=$LIVE_PASSWORD \
  AXE_JS=crates/web/node_modules/axe-core/axe.min.js CHROMIUM=$(command -v chromium) \
  python3 -m pytest tests/browser -q -p no:cacheprovider "$@"
if [ -f target/browser/figures.json ]; then echo "figures: $(tr -d '\n' <target/browser/figures.json | tr -s ' ')" >&2; fi
