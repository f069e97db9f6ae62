#!/usr/bin/env bash
# Zoom map against per-frame rendering, on one machine in one run (issue 20's goal): a zoom
# flight (default paths/zoom-1e100.toml: 3 minutes of 1280x720 at 60 fps, 10,800 frames, from
# the whole set to 1e-100) is too long to render both ways here, so both are measured on
# samples of it and extrapolated to the whole flight:
# - per frame: at SAMPLES places spread evenly over the flight, FRAMES consecutive frames; the
#   median time between them (`--verbose` reports it: start-up, the first frame's reference
#   orbit and stray slow frames stay out of a median) is what one more frame costs. Their mean
#   times the frame count.
# - map: at BLOCKS places spread over the flight, BLOCK consecutive frames, each place a fresh
#   process that computes the chunks its frames show (their count and time reported by
#   --verbose) and assembles the frames. Chunk time per chunk (over all runs) times the map's
#   chunks, plus the median time between frames (the frames that computed chunks, a few of
#   the block, stay out of it: that is assembly alone) times the frame count.
# Both write the same PNG sequence sink. Computed pixels are exact: frames x width x height
# for per-frame rendering, the map's chunks x angles x rows for the map.
# Usage: scripts/zoommap-measure.sh [PATH.toml] (env: MANDELFLY, SAMPLES, FRAMES, BLOCKS, BLOCK; RENDER_ARGS:
# more arguments for every render, both methods, e.g. RENDER_ARGS="--samples 4").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
BIN=${MANDELFLY:-target/release/mandelfly}
FLIGHT=${1:-paths/zoom-1e100.toml}
SAMPLES=${SAMPLES:-6}
FRAMES=${FRAMES:-8}
BLOCKS=${BLOCKS:-3}
BLOCK=${BLOCK:-60}
read -r -a render_args <<<"${RENDER_ARGS:-}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check=$("$BIN" path check "$FLIGHT")
frames=$("$BIN" path check "$FLIGHT" --json | sed -n 's/^  "frames": \([0-9]*\),*/\1/p')
map_line=$(grep '^map: ' <<<"$check")
echo "$check" | grep -E '^(duration|zoom|render method|map):'
chunks=$(sed -n 's/.* per chunk, \([0-9]*\) chunks.*/\1/p' <<<"$map_line")
angles=$(sed -n 's/^map: \([0-9]*\) angles x \([0-9]*\) rows.*/\1/p' <<<"$map_line")
rows=$(sed -n 's/^map: \([0-9]*\) angles x \([0-9]*\) rows.*/\2/p' <<<"$map_line")
size=$(sed -n 's/.*fps (\([0-9]*x[0-9]*\)).*/\1/p' <<<"$check")
# Samples per pixel of the per-frame renders (--samples in RENDER_ARGS; default 1): each is
# computed. The map's samples do not depend on it.
spp=$(sed -n 's/.*--samples[= ]\([0-9]*\).*/\1/p' <<<"${RENDER_ARGS:-}")
pixels=$(awk -F x -v n="$frames" -v s="${spp:-1}" '{print n * $1 * $2 * s}' <<<"$size")

median() { # render arguments... -> the median seconds between frames; stderr kept in $out/log
  "$BIN" render "$FLIGHT" "${render_args[@]}" --verbose "$@" >/dev/null 2>"$out/log"
  sed -n 's/^frame interval: median \([0-9.]*\) s.*/\1/p' "$out/log"
}

per_frame=()
per_frame_sample() { # i: the i-th of SAMPLES places
  local k t
  k=$(awk -v i="$1" -v n="$SAMPLES" -v f="$frames" -v b="$FRAMES" 'BEGIN {k = int((i + 0.5) / n * f - b / 2); print (k < 0 ? 0 : k)}')
  t=$(median --method frames --frames "$k..$((k + FRAMES))" -o "$out/f/")
  echo "per frame: frames $k..$((k + FRAMES)): median $t s"
  per_frame+=("$t")
}

chunk_time=0
chunk_count=0
assembly=0
map_block() { # i: the i-th of BLOCKS places
  local k t line c ct
  k=$(awk -v i="$1" -v n="$BLOCKS" -v f="$frames" -v b="$BLOCK" \
    'BEGIN {k = int((i + 0.5) / n * f - b / 2); print (k < 0 ? 0 : k)}')
  t=$(median --method map --frames "$k..$((k + BLOCK))" -o "$out/m/")
  line=$(grep '^zoom map: ' "$out/log")
  c=$(sed -n 's/^zoom map: \([0-9]*\) chunk.*/\1/p' <<<"$line")
  ct=$(sed -n 's/.* computed in \([0-9.]*\) s/\1/p' <<<"$line")
  echo "map: frames $k..$((k + BLOCK)): median $t s between frames; $c chunks in $ct s"
  chunk_time=$(awk -v a="$chunk_time" -v b="$ct" 'BEGIN {print a + b}')
  chunk_count=$((chunk_count + c))
  assembly=$(awk -v a="$assembly" -v b="$t" 'BEGIN {print a + b}')
}

# The two methods' runs interleaved (map blocks spread among the per-frame samples), so that
# a machine whose speed drifts over the minutes of the measurement (shared machines do, by a
# tenth and more) slows both alike instead of whichever ran last.
blocks_done=0
for i in $(seq 0 $((SAMPLES - 1))); do
  per_frame_sample "$i"
  while [ $((blocks_done * SAMPLES)) -lt $(((i + 1) * BLOCKS)) ]; do
    map_block "$blocks_done"
    blocks_done=$((blocks_done + 1))
  done
done

printf '%s\n' "${per_frame[@]}" | awk -v n="$frames" -v px="$pixels" \
  -v chunks="$chunks" -v cc="$chunk_count" -v ct="$chunk_time" -v asm="$assembly" \
  -v blocks="$BLOCKS" -v angles="$angles" -v rows="$rows" '
  { sum += $1; count += 1 }
  END {
    frame = sum / count
    chunk = ct / cc
    per_asm = asm / blocks
    frames_total = frame * n
    map_total = chunk * chunks + per_asm * n
    samples = chunks * angles * rows
    printf "\n%-12s %16s %14s\n", "method", "computed", "wall (est.)"
    printf "%-12s %16.4g %13.0f s   (%.3f s per frame x %d frames)\n", "per frame", px, frames_total, frame, n
    printf "%-12s %16.4g %13.0f s   (%.2f s per chunk x %d chunks + %.3f s assembly per frame x %d)\n", "map", samples, map_total, chunk, chunks, per_asm, n
    printf "%-12s %15.1fx %13.1fx\n", "ratio", px / samples, frames_total / map_total
  }'
