#!/usr/bin/env bash
# `make fuzz` (and .ci/run): contract fuzzing with schemathesis (PyPI) against a live
# server on a throwaway PostgreSQL, from our OpenAPI document, authenticated as an admin.
# Checks: no 5xx, every status documented, response bodies match their schemas and
# content types. Bounded by FUZZ_SECONDS (default 120) and FUZZ_EXAMPLES per operation.
# `logout` and `update_me` are left out: they would end the fuzzer's own admin session
# (logout revokes it; a new password revokes every session), and make the rest 401s.
# One worker: with two threads, Hypothesis's `ast.parse` of schemathesis's own sources
# races in CPython 3.11 (`SystemError: AST constructor recursion depth mismatch`, seen
# once in a `.ci/run` on 2026-11-23), a crash of the tool that fails the run with no finding.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null 2>&1 || python3 -m pip install -q schemathesis
scripts/need.sh build
cargo build --quiet -p gallery-server
. scripts/live.sh
live_start ./target/debug/gallery
./target/debug/gallery openapi >"$LIVE_DIR/openapi.json"
token=$(live_token)
st run "$LIVE_DIR/openapi.json" --url "$LIVE_URL" -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-operation-id logout --exclude-operation-id update_me \
  --phases examples,coverage,fuzzing --max-examples "${FUZZ_EXAMPLES:-30}" --max-time "${FUZZ_SECONDS:-120}" \
  --seed "${FUZZ_SEED:-20261123}" --workers 1 --request-timeout 20 --no-color "$@"
