#!/usr/bin/env bash
# Zoom map against per-frame rendering, on one machine in one run (issue 20's goal): a zoom
# flight (default paths/zoom-1e100.toml: 3 minutes of 1280x720 at 60 fps, 10,800 frames, from
# the whole set to 1e-100) is too long to render both ways here, so both are measured on
# samples of it and extrapolated to the whole flight:
# - per frame: at SAMPLES frames spread evenly over the flight, the marginal cost of one
#   frame (wall time of frames k..k+3 minus that of k..k+1, halved: start-up and the first
#   frame's reference orbit cancel); their mean times the frame count.
# - map: at BLOCKS places spread over the flight, BLOCK and 2 x BLOCK consecutive frames, each
#   run a fresh process that computes the chunks its frames show (their count and time are
#   reported by --verbose) and assembles the frames. Chunk time per chunk (mean over all runs)
#   times the map's chunks, plus the marginal assembly time per frame (the longer run's wall
#   time less its chunk time, less the same for the shorter run, over BLOCK: start-up
#   cancels) times the frame count.
# Both write the same PNG sequence sink. Computed pixels are exact: frames x width x height
# for per-frame rendering, the map's chunks x angles x rows for the map.
# Usage: scripts/zoommap-measure.sh [PATH.toml] (env: MANDELFLY, SAMPLES, BLOCKS, BLOCK; RENDER_ARGS:
# more arguments for every render, both methods, e.g. RENDER_ARGS="--samples 4").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
BIN=${MANDELFLY:-target/release/mandelfly}
FLIGHT=${1:-paths/zoom-1e100.toml}
SAMPLES=${SAMPLES:-6}
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

wall() { # command... -> seconds; stderr kept in $out/log
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>"$out/log"
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN {print e - s}'
}

per_frame=()
for i in $(seq 0 $((SAMPLES - 1))); do
  k=$(awk -v i="$i" -v n="$SAMPLES" -v f="$frames" 'BEGIN {print int((i + 0.5) / n * f) - 1}')
  one=$(wall "$BIN" render "$FLIGHT" "${render_args[@]}" --method frames --frames "$k..$((k + 1))" -o "$out/f/")
  three=$(wall "$BIN" render "$FLIGHT" "${render_args[@]}" --method frames --frames "$k..$((k + 3))" -o "$out/f/")
  marginal=$(awk -v a="$one" -v b="$three" 'BEGIN {print (b - a) / 2}')
  echo "per frame: frame $k: $marginal s"
  per_frame+=("$marginal")
done

chunk_time=0
chunk_count=0
assembly=0
map_block() { # first frame, frames -> "wall chunks chunk_seconds"
  local t line c ct
  t=$(wall "$BIN" render "$FLIGHT" "${render_args[@]}" --method map --verbose \
    --frames "$1..$(($1 + $2))" -o "$out/m/")
  line=$(grep '^zoom map: ' "$out/log")
  c=$(sed -n 's/^zoom map: \([0-9]*\) chunk.*/\1/p' <<<"$line")
  ct=$(sed -n 's/.* computed in \([0-9.]*\) s/\1/p' <<<"$line")
  echo "$t $c $ct"
}
for i in $(seq 0 $((BLOCKS - 1))); do
  k=$(awk -v i="$i" -v n="$BLOCKS" -v f="$frames" -v b="$BLOCK" \
    'BEGIN {print int((i + 0.5) / n * f - b)}')
  read -r t1 c1 ct1 < <(map_block "$k" "$BLOCK")
  read -r t2 c2 ct2 < <(map_block "$k" $((2 * BLOCK)))
  echo "map: frames $k..$((k + BLOCK)): $t1 s ($c1 chunks in $ct1 s); $k..$((k + 2 * BLOCK)): $t2 s ($c2 chunks in $ct2 s)"
  chunk_time=$(awk -v a="$chunk_time" -v b="$ct1" -v c="$ct2" 'BEGIN {print a + b + c}')
  chunk_count=$((chunk_count + c1 + c2))
  assembly=$(awk -v a="$assembly" -v t1="$t1" -v c1="$ct1" -v t2="$t2" -v c2="$ct2" -v b="$BLOCK" \
    'BEGIN {print a + ((t2 - c2) - (t1 - c1)) / b}')
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
