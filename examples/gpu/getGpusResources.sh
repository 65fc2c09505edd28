#!/usr/bin/env bash
# Spark's GPU discovery script for Kindling: prints this host's NVIDIA GPUs as Spark reads them,
#   {"name": "gpu", "addresses": ["0", "1"]}
# Point spark.executor.resource.gpu.discoveryScript at it (standalone workers and local-cluster:
# spark.worker.resource.gpu.discoveryScript) together with spark.executor.resource.gpu.amount and
# spark.task.resource.gpu.amount; spark.kindling.device=cuda then runs each executor's engine on the address Spark
# assigned to its tasks.
#
# The addresses are CUDA device ordinals: nvidia-smi's indices (the same order as CUDA's on a host of identical
# GPUs), or, when CUDA_VISIBLE_DEVICES restricts the executor, 0..n-1 over the devices it lists, since CUDA
# renumbers them so. Fails, saying why on stderr, when no GPU can be listed: Spark then reports the script's error
# instead of starting executors without GPUs.
set -euo pipefail

addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
  IFS=, read -r -a visible <<<"$CUDA_VISIBLE_DEVICES"
  for i in "${!visible[@]}"; do
    addresses+=("$i")
  done
else
  if ! command -v nvidia-smi >/dev/null; then
    echo "getGpusResources.sh: nvidia-smi is not on the PATH, so no NVIDIA GPU can be listed" >&2
    exit 1
  fi
  if ! indices="$(nvidia-smi --query-gpu=index --format=csv,noheader)"; then
    echo "getGpusResources.sh: nvidia-smi failed to list the GPUs" >&2
    exit 1
  fi
  while read -r index; do
    [[ -n "$index" ]] && addresses+=("$index")
  done <<<"$indices"
fi
if (( ${#addresses[@]} == 0 )); then
  echo "getGpusResources.sh: no GPU found" >&2
  exit 1
fi
printf '{"name": "gpu", "addresses": ['
for i in "${!addresses[@]}"; do
  (( i > 0 )) && printf ', '
  printf '"%s"' "${addresses[i]}"
done
printf ']}\n'
