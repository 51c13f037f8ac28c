#!/usr/bin/env bash
# Thumbnail speed and memory, side by side with Pillow in one run (part of `make bench`):
# 200 px and 400 px from a 4000×3000 JPEG, an 8000×6000 JPEG and a 1920×1080 PNG; our
# renderer vs Pillow called carefully (`Image.thumbnail`, which decodes JPEGs at reduced
# size) and as the seed projects call it (full decode, then resize). Median of N renders
# per process; peak RSS of each process (`/usr/bin/time`).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_RENDERS:-5}
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
[ -x /usr/bin/time ] || { sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"; $sudo apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet -p gallery-imaging --example make_fixture --example thumb_bench
dir=$(mktemp -d /tmp/gallery-bench-thumbs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
./target/release/examples/make_fixture "$dir/4000.jpg" 4000 3000
./target/release/examples/make_fixture "$dir/8000.jpg" 8000 6000
python3 - "$dir/1920.png" <<'PY'
import sys, random
from PIL import Image
random.seed(1)
img = Image.effect_noise((1920, 1080), 64).convert("RGB")
img.save(sys.argv[1])
PY
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
for src in 4000.jpg 8000.jpg 1920.png; do
  kind=jpeg; [ "${src##*.}" = png ] && kind=png
  for h in 200 400; do
    read -r ours ours_mb <<<"$(measure ./target/release/examples/thumb_bench "$dir/$src" "$kind" "$h" "$N")"
    read -r careful careful_mb <<<"$(measure python3 "$dir/pillow.py" "$dir/$src" careful "$h" "$N")"
    read -r full full_mb <<<"$(measure python3 "$dir/pillow.py" "$dir/$src" full "$h" "$N")"
    printf '%-22s %6s | %7s / %5s | %7s / %5s | %7s / %5s | %.1fx, %.1fx\n' "$src" "$h" "$ours" "$ours_mb" "$careful" "$careful_mb" \
      "$full" "$full_mb" "$(python3 -c "print($careful/$ours)")" "$(python3 -c "print($full/$ours)")"
  done
done
