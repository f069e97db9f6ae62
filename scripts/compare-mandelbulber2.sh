#!/usr/bin/env bash
# Renders the reference view with Mandelbulber2 and with mandelfly on this machine, several runs
# each as whole processes, and prints the medians and the speed ratio.
# usage: scripts/compare-mandelbulber2.sh [WIDTH HEIGHT RUNS]   (default 1280 720 3)
# needs: ../shared/anchors/mandelbulber2 (or MB2_ANCHOR=DIR), and
#        apt-get install -y --no-install-recommends mandelbulber2 xvfb xauth
# Modes compared: mandelbulber2 "simple" (no AO, no shadows) against mandelfly with
# ambient_occlusion = false, shadows = false; mandelbulber2 "quality" (AO + soft shadows)
# against the reference look (AO + soft shadows).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
W=${1:-1280}; H=${2:-720}; RUNS=${3:-3}
ANCHOR=${MB2_ANCHOR:-$here/../../shared/anchors/mandelbulber2}
[ -x "$ANCHOR/render.sh" ] || [ -f "$ANCHOR/render.sh" ] || { echo "no $ANCHOR/render.sh" >&2; exit 2; }
command -v mandelbulber2 >/dev/null || { echo "mandelbulber2 is not installed" >&2; exit 2; }
"$here/setup.sh" run
. "$here/env.sh"
cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
BIN="$here/../target/release/mandelfly"
OUT=${OUT:-$(mktemp -d)}
printf '[look]\npreset = "reference"\nambient_occlusion = false\nshadows = false\n' > "$OUT/simple.toml"
printf '[look]\npreset = "reference"\n' > "$OUT/quality.toml"

. "$here/timing.sh"

for mode in simple quality; do
  mb=$(time_runs env VARIANT=classic bash "$ANCHOR/render.sh" "$W" "$H" "$OUT/mb2-$mode.png" "$mode")
  mf=$(time_runs "$BIN" still "$OUT/$mode.toml" --samples 1 --size "${W}x${H}" --force -o "$OUT/mandelfly-$mode.png")
  printf '%-8s %dx%d  mandelbulber2 %.3f s  mandelfly %.3f s  ratio %.1fx\n' \
    "$mode" "$W" "$H" "$mb" "$mf" "$(awk -v a="$mb" -v b="$mf" 'BEGIN {print a / b}')"
done
echo "images: $OUT"
