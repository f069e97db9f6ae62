#!/usr/bin/env bash
# One flight across a Slurm cluster: a job array renders shard I of N in task I
# (SLURM_ARRAY_TASK_ID), and a dependent job joins the segments once every task has succeeded.
#
#   deploy/slurm-job-array.sh flight.toml /shared/project/flight 8
#
# Storage: DIR must be on a file system every node mounts (NFS, Lustre, GPFS...). The path file
# is read from there too. Re-submitting is safe: complete shards are skipped, a killed shard
# leaves no manifest and renders again.
set -euo pipefail
PATH_FILE=${1:?path file}; DIR=${2:?shared output directory}; SHARDS=${3:-8}
RENDER_ARGS=${RENDER_ARGS:---size 3840x2160 --samples 16 --shutter 0.5 --codec h264 --crf 16}
mkdir -p "$DIR/segments" "$DIR/logs"

render_job=$(sbatch --parsable \
  --job-name=mandelfly-shards \
  --array=0-$((SHARDS - 1)) \
  --gres=gpu:1 --cpus-per-task=4 --time=12:00:00 \
  --output="$DIR/logs/shard-%a.log" \
  --wrap="mandelfly render '$PATH_FILE' --shard \$SLURM_ARRAY_TASK_ID/$SHARDS $RENDER_ARGS -o '$DIR/segments/'")

sbatch --parsable \
  --job-name=mandelfly-concat \
  --dependency=afterok:"$render_job" \
  --time=00:30:00 \
  --output="$DIR/logs/concat.log" \
  --wrap="mandelfly concat '$DIR/segments/' -o '$DIR/flight.mp4'"
echo "submitted: shards as job $render_job, then the concat job"
