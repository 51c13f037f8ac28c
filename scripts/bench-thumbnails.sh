#!/usr/bin/env bash
# Thumbnail speed and memory, side by side with Pillow in one run (part of `make bench`):
# 200 px and 400 px from 4000×3000 and 8000×6000 JPEGs and 1920×1080 PNGs (fixtures in
# scripts/thumbnail_fixtures.py: photo-like, screenshot-like, and noise as the worst case); our
# renderer vs Pillow called carefully (`Image.thumbnail`, which decodes JPEGs at reduced
# size) and as the seed projects call it (full decode, then resize). Median of N renders
# per process; peak RSS of each process (`/usr/bin/time`).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_RENDERS:-5}
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
[ -x /usr/bin/time ] || scripts/need.sh /usr/bin/time:time
scripts/need.sh build
cargo build --release --quiet -p gallery-imaging --example make_fixture --example thumb_bench
dir=$(mktemp -d /tmp/gallery-bench-thumbs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 scripts/thumbnail_fixtures.py "$dir"
./target/release/examples/make_fixture "$dir/noise-4000x3000.jpg" 4000 3000
./target/release/examples/make_fixture "$dir/noise-8000x6000.jpg" 8000 6000
cat >"$dir/pillow.py" <<'PY'
import sys, time, statistics
from PIL import Image
path, mode, height, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
times = []
for _ in range(n):
    start = time.perf_counter()
    img = Image.open(path)
    w, h = img.size
    size = (max(1, round(w * height / h)), height)
    if mode == "careful":
        img.thumbnail(size)            # draft(): JPEG decoded at 1/2, 1/4 or 1/8 scale
        out = img
    else:
        img.load()                     # the seed projects: full decode, then resize
        out = img.resize(size, Image.LANCZOS)
    out.convert("RGB").save("/dev/null", "JPEG", quality=85)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
PY
measure() { # command... → "ms peakMB"
  local out
  out=$( { /usr/bin/time -f '%M' "$@" 2>"$dir/rss"; } )
  printf '%s %s' "$out" "$(awk '{printf "%.0f", $1/1024}' "$dir/rss")"
}
printf '%-22s %6s | %-16s | %-16s | %-16s | %s\n' "source" "height" "ours ms / MB" "Pillow careful" "Pillow full" "speed-up vs careful, vs full"
for src in photo-4000x3000.jpg photo-8000x6000.jpg noise-4000x3000.jpg noise-8000x6000.jpg \
  photo-1920x1080.png screen-1920x1080.png noise-1920x1080.png; do
  kind=jpeg; [ "${src##*.}" = png ] && kind=png
  for h in 200 400; do
    read -r ours ours_mb <<<"$(measure ./target/release/examples/thumb_bench "$dir/$src" "$kind" "$h" "$N")"
    read -r careful careful_mb <<<"$(measure python3 "$dir/pillow.py" "$dir/$src" careful "$h" "$N")"
    read -r full full_mb <<<"$(measure python3 "$dir/pillow.py" "$dir/$src" full "$h" "$N")"
    printf '%-22s %6s | %7s / %5s | %7s / %5s | %7s / %5s | %.1fx, %.1fx\n' "$src" "$h" "$ours" "$ours_mb" "$careful" "$careful_mb" \
      "$full" "$full_mb" "$(python3 -c "print($careful/$ours)")" "$(python3 -c "print($full/$ours)")"
  done
done

# A phone's 12 MP photo as JPEG, HEIC and AVIF (libheif's heif-enc and libavif's avifenc at
# their defaults, from the same 4000×3000 JPEG): its first 200 px thumbnail. JPEG decodes at
# 1/8 scale; libheif 1.15 has no scaled decoding, so HEIC and AVIF decode all 12 MP.
scripts/need.sh heif-enc:libheif-examples avifenc:libavif-bin
heif-enc -q 50 -o "$dir/photo-4000x3000.heic" "$dir/photo-4000x3000.jpg" >/dev/null
avifenc "$dir/photo-4000x3000.jpg" "$dir/photo-4000x3000.avif" >/dev/null
printf '\n%-22s | %8s | %-12s\n' "12 MP photo as" "KB" "200 px: ms / peak MB"
for kind in jpg:jpeg heic:heic avif:avif; do
  ext=${kind%%:*} format=${kind#*:}
  read -r ms mb <<<"$(measure ./target/release/examples/thumb_bench "$dir/photo-4000x3000.$ext" "$format" 200 "$N")"
  printf '%-22s | %8s | %7s / %s\n' "photo-4000x3000.$ext" "$(($(stat -c %s "$dir/photo-4000x3000.$ext") / 1024))" "$ms" "$mb"
done

# The floor under any PNG decoder: inflating the image data alone, with libdeflate (the
# fastest inflater; the PyPI `deflate` bindings) and with zlib (what Pillow uses). A PNG
# thumbnail cannot be faster than its inflate.
python3 -c 'import deflate' 2>/dev/null || python3 -m pip install -q deflate
python3 - "$dir" "$N" <<'PY'
import statistics, struct, sys, time, zlib
import deflate
folder, n = sys.argv[1], int(sys.argv[2])
print("\ninflate alone (median ms): source | libdeflate | zlib")
for name in ("photo", "screen", "noise"):
    data = open(f"{folder}/{name}-1920x1080.png", "rb").read()
    pos, idat, raw = 8, bytearray(), 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[pos + 8:pos + 16])
            raw = height * (1 + width * 3)   # 8-bit RGB, a filter byte per row
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    def median(work):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            work()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)
    print(f"{name}-1920x1080.png | {median(lambda: deflate.zlib_decompress(bytes(idat), raw)):.1f} | {median(lambda: zlib.decompress(idat, 15, raw)):.1f}")
PY
