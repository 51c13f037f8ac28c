#!/usr/bin/env bash
# `scripts/need.sh WANT...` installs, with apt-get, the Debian package of each WANT that is
# missing. A WANT is `COMMAND[:PACKAGE]` (the package is named like the command unless
# given), `pkgconfig/MODULE:PACKAGE` (a C library found by pkg-config), or `build`: what
# building the workspace needs —
# - nasm: libjpeg-turbo's SIMD in mozjpeg-sys (without it JPEG thumbnails build but decode
#   several times slower);
# - libheif 1.15 with its headers (HEIC and AVIF; Debian's is built with libde265 and
#   dav1d), found by pkg-config.
# Benchmarks add wrk and time.
set -euo pipefail
wants=()
for want in "$@"; do
  if [ "$want" = build ]; then
    wants+=(nasm pkg-config pkgconfig/libheif:libheif-dev)
  else
    wants+=("$want")
  fi
done
missing=()
for want in "${wants[@]}"; do
  cmd=${want%%:*} pkg=${want#*:}
  case $cmd in
  pkgconfig/*) pkg-config --exists "${cmd#pkgconfig/}" 2>/dev/null || missing+=("$pkg") ;;
  *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} with apt-get..." >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
