#!/usr/bin/env bash
# Score data.csv in 16 shards as a Slurm job array, then merge once every task has succeeded:
#
#   jid=$(sbatch --parsable slurm-score.sh)
#   sbatch --dependency=afterok:$jid --wrap 'forwardpool merge --force --output scores.csv parts/part-*.csv'
#
# afterok runs the merge only when every array task exited 0, so a failed shard never yields a
# partial scores.csv. Run it from a directory on shared storage that every node sees.
#SBATCH --job-name=forwardpool-score
#SBATCH --array=0-15
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8
#SBATCH --output=logs/score-%a.log
set -euo pipefail
N=16
mkdir -p parts
exec forwardpool score --model model.onnx --input data.csv \
  --output "parts/part-$(printf %05d "$SLURM_ARRAY_TASK_ID").csv" \
  --shard "$SLURM_ARRAY_TASK_ID/$N" --threads "$SLURM_CPUS_PER_TASK" --force --quiet
