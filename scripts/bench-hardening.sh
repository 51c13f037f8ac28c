#!/usr/bin/env bash
# Hardening benchmarks (#11, part of `make bench`), side by side with a base revision built
# from git (BENCH_BASE, default 38399f4, the last commit before #11), in one run:
# - GET /l/{token} of a shared 64x48 original, wrk -c32: the link check (now one joined query
#   that also checks moderation, the creator and their plan);
# - POST /images of a 1 MB JPEG carrying EXIF GPS and XMP, wrk -c8: uploads with location
#   taken out as they stream, next to uploads that stored it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/side-by-side.sh
. scripts/bench-upload.sh

DURATION=${BENCH_SECONDS:-10}
BASE=${BENCH_BASE:-38399f4}
scripts/need.sh wrk build
side_by_side_start "$BASE"
dir=$SBS_DIR

# A 1 MB JPEG with an EXIF segment holding GPS and an XMP packet.
./target/release/examples/make_fixture "$dir/plain.jpg" 800 600 1000000
python3 - "$dir/plain.jpg" "$dir/located.jpg" <<'PY'
import struct, sys
plain = open(sys.argv[1], "rb").read()
def entry(tag, kind, n, value): return struct.pack("<HHII", tag, kind, n, value)
tiff = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 2) + entry(0x0112, 3, 1, 6) + entry(0x8825, 4, 1, 38)
tiff += struct.pack("<I", 0) + struct.pack("<H", 1) + entry(0x0002, 5, 3, 56) + struct.pack("<I", 0)
tiff += struct.pack("<6I", 48, 1, 51, 1, 2437, 100)
def app1(body): return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude></x:xmpmeta>"
open(sys.argv[2], "wb").write(plain[:2] + app1(b"Exif\0\0" + tiff) + app1(xmp) + plain[2:])
PY
# The shared image is small, so that the link check, not the copy, is what GET /l measures.
./target/release/examples/make_fixture "$dir/small.jpg" 64 48
multipart "$dir/located.jpg" "$dir/body"
multipart "$dir/small.jpg" "$dir/small-body"

run() { # label binary
  local label=$1 id url
  sbs_serve "$label" "$2"
  id=$(curl -fsS -X POST "http://127.0.0.1:$SBS_PORT/api/v1/images" -H "Authorization: Bearer $SBS_TOKEN" \
    -H 'Content-Type: multipart/form-data; boundary=BENCHBOUNDARY' --data-binary @"$dir/small-body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  url=$(curl -fsS -X POST "http://127.0.0.1:$SBS_PORT/api/v1/images/$id/links" -H "Authorization: Bearer $SBS_TOKEN" \
    -H 'content-type: application/json' -d '{"expires_in": 3600}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  wrk -t2 -c32 -d"${DURATION}s" "$url" >"$dir/links-$label.txt"
  TOKEN=$SBS_TOKEN BODY_FILE="$dir/body" wrk -t2 -c8 -d"${DURATION}s" -s scripts/upload.lua \
    "http://127.0.0.1:$SBS_PORT/api/v1/images" >"$dir/upload-$label.txt"
  printf '%-5s GET /l/{token} %8.0f req/s (non-2xx %s)   1 MB JPEG upload %6.1f /s (non-2xx %s)\n' "$label" \
    "$(rps "$dir/links-$label.txt")" "$(non2xx "$dir/links-$label.txt")" \
    "$(rps "$dir/upload-$label.txt")" "$(non2xx "$dir/upload-$label.txt")"
  sbs_stop
}

echo "== base $BASE vs HEAD $(git rev-parse --short HEAD), ${DURATION}s each, release builds, one PostgreSQL"
for round in 1 2; do
  run base "$dir/gallery-base"
  run head "$dir/gallery-head"
  echo "-- round $round done"
done
