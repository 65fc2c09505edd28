#!/usr/bin/env bash
# build-kernels.sh OUTDIR: compiles every src/main/cuda/*.cu into OUTDIR/<name>.fatbin with SASS for sm_80 and
# sm_90a plus compute_80 PTX (newer cards JIT it). A file is rebuilt only when it or a header is newer than its
# fatbin. Without nvcc, OUTDIR/UNAVAILABLE says why and the build goes on (the CUDA backend then reports it).
# NVCC_FLAGS adds flags (e.g. "-Xptxas -v" to read register use).
set -euo pipefail
shopt -s nullglob
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src/main/cuda"
out="$1"
mkdir -p "$out"
nvcc="$(command -v nvcc || true)"
if [[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]]; then
  nvcc=/usr/local/cuda/bin/nvcc
fi
if [[ -z "$nvcc" ]]; then
  echo "nvcc was not found on PATH or in /usr/local/cuda/bin when this jar was built, so it holds no CUDA kernels" \
    > "$out/UNAVAILABLE"
  echo "build-kernels: nvcc not found; the CUDA backend will be unavailable" >&2
  exit 0
fi
rm -f "$out/UNAVAILABLE"
newest_header=0
for h in "$src"/*.cuh; do
  [[ -e "$h" ]] || continue
  t=$(stat -c %Y "$h")
  (( t > newest_header )) && newest_header=$t
done
pids=()
jobs_max=$(nproc)
for cu in "$src"/*.cu; do
  name="$(basename "$cu" .cu)"
  fatbin="$out/$name.fatbin"
  if [[ -e "$fatbin" ]]; then
    built=$(stat -c %Y "$fatbin")
    if (( built >= $(stat -c %Y "$cu") && built >= newest_header )); then
      continue
    fi
  fi
  while (( $(jobs -rp | wc -l) >= jobs_max )); do
    wait -n || true
  done
  echo "build-kernels: nvcc $name.cu" >&2
  "$nvcc" -O3 -std=c++17 -fatbin -I"$src" ${NVCC_FLAGS:-} \
    -gencode arch=compute_80,code=sm_80 \
    -gencode arch=compute_90a,code=sm_90a \
    -gencode arch=compute_80,code=compute_80 \
    -o "$fatbin.tmp" "$cu" &
  pids+=("$!:$fatbin:$name")
done
status=0
for entry in "${pids[@]}"; do
  IFS=: read -r pid fatbin name <<< "$entry"
  if wait "$pid"; then
    mv "$fatbin.tmp" "$fatbin"
  else
    echo "build-kernels: nvcc failed on $name.cu" >&2
    rm -f "$fatbin.tmp"
    status=1
  fi
done
exit $status
