#!/usr/bin/env bash
# One flight across a Slurm cluster: a job array renders shard I of N in task I
# (SLURM_ARRAY_TASK_ID), and a dependent job joins the segments once every task has succeeded.
#
#   deploy/slurm-job-array.sh [OPTIONS] PATH_FILE DIR [SHARDS]
#   deploy/slurm-job-array.sh --gres gpu:1 --cpus 4 --throttle 8 flight.toml /shared/flight 64
#
# Segments go to DIR/segments/, the video to DIR/flight.mp4 (the container follows the codec:
# .mkv for ffv1, .mov for prores, .webm for vp9; or --output), every attempt's log to
# DIR/logs/ (shards-JOB_INDEX.log, concat-JOB.log). DIR must be on a file system every node
# mounts (NFS, Lustre, GPFS...).
#
# When a shard fails, the concat job is cancelled (it would otherwise wait forever). Look at
# `mandelfly shards status DIR/segments`, fix the cause, then run the same command with --resume:
# it submits only the shards without a manifest, and a fresh concat job.
#
# Every option has an environment variable; the option wins. Empty means "not requested", so
# the cluster's defaults apply.
usage() {
  cat <<'EOF'
usage: slurm-job-array.sh [OPTIONS] PATH_FILE DIR [SHARDS]
  SHARDS                 how many shards (default 8; many small ones retry cheaply)
  --gres SPEC            generic resources per shard, e.g. gpu:1   MANDELFLY_GRES (default none)
  --cpus N               CPUs per shard                            MANDELFLY_CPUS (default 1)
  --mem SIZE             memory per shard, e.g. 8G                 MANDELFLY_MEM (default: cluster's)
  --time T               time limit per shard, e.g. 2:00:00        MANDELFLY_TIME (default: partition's)
  --partition P          partition for every job                   MANDELFLY_PARTITION
  --throttle T           at most T shards at once                  MANDELFLY_THROTTLE (default no limit)
  --adapter NAME         fail unless a GPU adapter named so exists MANDELFLY_ADAPTER
  --render-args "ARGS"   render options for every shard            RENDER_ARGS
                         (default: --size 3840x2160 --samples 16 --shutter 0.5 --codec h264 --crf 16)
  --output FILE          the joined video (default DIR/flight.<container for the codec>)
  --sbatch-args "ARGS"   more sbatch options for every job         MANDELFLY_SBATCH_ARGS
  --mandelfly PROGRAM    the mandelfly binary on the nodes         MANDELFLY (default mandelfly)
  --resume               submit only the shards without a manifest, then a fresh concat job
  --dry-run              print the sbatch commands instead of running them
EOF
}
set -euo pipefail

die() { echo "slurm-job-array.sh: $*" >&2; exit 2; }

GRES=${MANDELFLY_GRES:-}; CPUS=${MANDELFLY_CPUS:-1}; MEM=${MANDELFLY_MEM:-}
TIME=${MANDELFLY_TIME:-}; PARTITION=${MANDELFLY_PARTITION:-}; THROTTLE=${MANDELFLY_THROTTLE:-}
ADAPTER=${MANDELFLY_ADAPTER:-}; SBATCH_EXTRA=${MANDELFLY_SBATCH_ARGS:-}
MANDELFLY_BIN=${MANDELFLY:-mandelfly}
RENDER_ARGS=${RENDER_ARGS:---size 3840x2160 --samples 16 --shutter 0.5 --codec h264 --crf 16}
OUTPUT=""; RESUME=0; DRY_RUN=0
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --gres|--cpus|--mem|--time|--partition|--throttle|--adapter|--render-args|--output|\
    --sbatch-args|--mandelfly)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --gres) GRES=$2 ;; --cpus) CPUS=$2 ;; --mem) MEM=$2 ;; --time) TIME=$2 ;;
        --partition) PARTITION=$2 ;; --throttle) THROTTLE=$2 ;; --adapter) ADAPTER=$2 ;;
        --render-args) RENDER_ARGS=$2 ;; --output) OUTPUT=$2 ;; --sbatch-args) SBATCH_EXTRA=$2 ;;
        --mandelfly) MANDELFLY_BIN=$2 ;;
      esac
      shift 2 ;;
    --resume) RESUME=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --) shift; positional+=("$@"); break ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 2 ] && [ ${#positional[@]} -le 3 ] || { usage >&2; exit 2; }
PATH_FILE=${positional[0]}; DIR=${positional[1]}; SHARDS=${positional[2]:-8}

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
is_count "$SHARDS" || die "SHARDS must be a whole number from 1, got '$SHARDS'"
is_count "$CPUS" || die "--cpus must be a whole number from 1, got '$CPUS'"
[ -z "$THROTTLE" ] || is_count "$THROTTLE" || die "--throttle must be a whole number from 1, got '$THROTTLE'"
[ -f "$PATH_FILE" ] || die "$PATH_FILE: no such path file"
# Absolute paths: the jobs may start in another directory than this one.
PATH_FILE=$(realpath "$PATH_FILE")
DIR=$(realpath -m "$DIR")
SEGMENTS="$DIR/segments"

# The joined video's container must hold the codec (mp4 cannot hold ffv1 or prores).
read -r -a render_args <<<"$RENDER_ARGS"
codec=h264
for ((i = 0; i < ${#render_args[@]}; i++)); do
  case "${render_args[$i]}" in
    --codec) codec=${render_args[$((i + 1))]:-} ;;
    --codec=*) codec=${render_args[$i]#--codec=} ;;
  esac
done
case "$codec" in
  h264|hevc|av1) ext=mp4 ;; vp9) ext=webm ;; prores) ext=mov ;; ffv1) ext=mkv ;;
  *) die "unknown codec '$codec' in the render arguments" ;;
esac
[ -n "$OUTPUT" ] || OUTPUT="$DIR/flight.$ext"
OUTPUT=$(realpath -m "$OUTPUT")
if [ "$DRY_RUN" = 0 ]; then
  command -v sbatch >/dev/null || { echo "slurm-job-array.sh: no sbatch here: run this on a Slurm submit node" >&2; exit 1; }
  mkdir -p "$SEGMENTS" "$DIR/logs"
fi

# Which shards to submit: all, or with --resume those whose manifest is not there yet.
indexes=()
for ((i = 0; i < SHARDS; i++)); do
  manifest=$(printf '%s/shard-%04d-of-%04d.json' "$SEGMENTS" "$i" "$SHARDS")
  if [ "$RESUME" = 0 ] || [ ! -f "$manifest" ]; then indexes+=("$i"); fi
done

common=()
[ -z "$PARTITION" ] || common+=("--partition=$PARTITION")
read -r -a extra <<<"$SBATCH_EXTRA"
common+=(${extra[@]+"${extra[@]}"})
global=()
[ -z "$ADAPTER" ] || global+=(--adapter "$ADAPTER")

submit() {
  if [ "$DRY_RUN" = 1 ]; then
    { printf 'sbatch'; printf ' %q' "$@"; printf '\n'; } >&2
    echo "DRY-RUN"
  else
    sbatch --parsable "$@"
  fi
}

render_job=""
if [ ${#indexes[@]} -gt 0 ]; then
  array=$(IFS=,; echo "${indexes[*]}")
  # Runs of consecutive indexes as ranges: 0-63 rather than 0,1,2,...
  array=$(echo "$array" | awk -F, '{ s = $1; p = $1; out = "";
    for (i = 2; i <= NF + 1; i++) { if (i <= NF && $i == p + 1) { p = $i; continue }
      out = out (out == "" ? "" : ",") (s == p ? s : s "-" p); s = $i; p = $i }
    print out }')
  [ -z "$THROTTLE" ] || array="$array%$THROTTLE"
  # A log per attempt: a resubmission is a new job (%A); a task Slurm requeues (node failure)
  # appends to its log rather than truncating it.
  shard_opts=(--job-name=mandelfly-shards "--array=$array" "--cpus-per-task=$CPUS"
    "--output=$DIR/logs/shards-%A_%a.log" --open-mode=append)
  [ -z "$GRES" ] || shard_opts+=("--gres=$GRES")
  [ -z "$MEM" ] || shard_opts+=("--mem=$MEM")
  [ -z "$TIME" ] || shard_opts+=("--time=$TIME")
  render_cmd=$(printf '%q ' "$MANDELFLY_BIN" ${global[@]+"${global[@]}"} render "$PATH_FILE" \
    ${render_args[@]+"${render_args[@]}"} -o "$SEGMENTS/")
  render_job=$(submit ${common[@]+"${common[@]}"} "${shard_opts[@]}" \
    --wrap="$render_cmd--shard \$SLURM_ARRAY_TASK_ID/$SHARDS")
fi

concat_opts=(--job-name=mandelfly-concat "--output=$DIR/logs/concat-%j.log" --open-mode=append)
# A failed shard cancels the concat job rather than leaving it waiting forever.
[ -z "$render_job" ] || concat_opts+=("--dependency=afterok:$render_job" --kill-on-invalid-dep=yes)
concat_cmd=$(printf '%q ' "$MANDELFLY_BIN" concat "$SEGMENTS/" -o "$OUTPUT")
concat_job=$(submit ${common[@]+"${common[@]}"} "${concat_opts[@]}" --wrap="$concat_cmd")
if [ -n "$render_job" ]; then
  echo "submitted: ${#indexes[@]} of $SHARDS shards as job array $render_job, then concat job $concat_job into $OUTPUT"
else
  echo "submitted: every shard has a manifest; concat job $concat_job into $OUTPUT"
fi
