#!/usr/bin/env bash
# `scripts/need.sh COMMAND[:PACKAGE]...` installs, with apt-get, the Debian package of each
# command that is missing (the package is named like the command unless given).
# Build-time: nasm (libjpeg-turbo's SIMD in mozjpeg-sys; without it JPEG thumbnails build
# but decode several times slower). Benchmarks: wrk, time.
set -euo pipefail
missing=()
for want in "$@"; do
  cmd=${want%%:*} pkg=${want#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} with apt-get..." >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
