#!/usr/bin/env bash
# S3 helpers for `make test` and `make bench`; source this file (after scripts/pg.sh, for
# free_port). The test S3 server is s3s-fs (crates.io): an S3 server over a folder, built
# from source here like everything else in the project, fast enough to benchmark against,
# and with multipart uploads (and their abort), ranged GETs and bulk deletes.

S3S_VERSION=0.14.1
S3_ACCESS_KEY=gallery-test
S3_SECRET_KEY=gallery-test-secret

# The s3s-fs binary: installed with cargo (about two minutes, once) when missing.
s3_bin() {
  local bin=${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs
  if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -q "$S3S_VERSION"; then
    echo "installing s3s-fs $S3S_VERSION with cargo (once)..." >&2
    cargo install --quiet --locked "s3s-fs@$S3S_VERSION" --features binary >&2
  fi
  printf '%s' "$bin"
}

# s3_start DIR PORT: serves DIR/data on 127.0.0.1:PORT, waits until it answers, and
# records its pid in DIR/pid. Buckets are folders under DIR/data.
s3_start() {
  local dir=$1 port=$2 bin
  bin=$(s3_bin)
  mkdir -p "$dir/data"
  "$bin" --host 127.0.0.1 --port "$port" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" \
    "$dir/data" >"$dir/s3s.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "s3s-fs did not start:" >&2
  tail -n 20 "$dir/s3s.log" >&2
  return 1
}

s3_stop() {
  local dir=$1
  [ -f "$dir/pid" ] || return 0
  kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid"
}
