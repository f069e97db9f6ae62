#!/usr/bin/env bash
# Renders the published deep-zoom locations of ../shared/anchors/deepzoom with mandelfly on this
# machine (whole processes, median of RUNS) and prints the times beside the CPU deep-zoom
# renderer's figures from that folder's README (rust-fractal 0.14, series approximation on, a
# 2-core machine like the development ones). The locations are read from there, not copied.
# usage: scripts/compare-deepzoom.sh [WIDTH HEIGHT RUNS [PRECISION]]   (default 1280 720 3 single)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
W=${1:-1280}; H=${2:-720}; RUNS=${3:-3}; PRECISION=${4:-single}
ANCHOR=${DEEPZOOM_ANCHOR:-$here/../../shared/anchors/deepzoom}
[ -f "$ANCHOR/README.md" ] || { echo "no $ANCHOR/README.md" >&2; exit 2; }
"$here/setup.sh" run
. "$here/env.sh"
cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
BIN="$here/../target/release/mandelfly"
OUT=${OUT:-$(mktemp -d)}

. "$here/timing.sh"

printf '%-16s %-14s %10s %12s %12s %8s\n' location height iterations rust-fractal mandelfly ratio
for scene in "$ANCHOR"/*.toml; do
  name=$(basename "$scene" .toml)
  # The anchor's row: | name | height | iterations | time |
  row=$(grep -E "^\| $name \|" "$ANCHOR/README.md" || true)
  [ -n "$row" ] || continue
  height=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
  iterations=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
  theirs=$(echo "$row" | awk -F'|' '{gsub(/[ s]/, "", $5); print $5}')
  sed "s/^kind = \"mandelbrot\"/kind = \"mandelbrot\"\nprecision = \"$PRECISION\"/" "$scene" > "$OUT/$name.toml"
  ours=$(time_runs "$BIN" still "$OUT/$name.toml" --samples 1 --size "${W}x${H}" --force -o "$OUT/$name.png")
  printf '%-16s %-14s %10s %10.2f s %10.2f s %7.2fx\n' "$name" "$height" "$iterations" \
    "$theirs" "$ours" "$(awk -v a="$theirs" -v b="$ours" 'BEGIN {print a / b}')"
done
echo "images: $OUT"
