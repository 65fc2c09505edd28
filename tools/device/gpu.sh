#!/usr/bin/env bash
# Runs on a GPU host (with the repository and .device/bundle.tar.xz from tools/device/pack.sh), from the repository root:
#   bash tools/device/gpu.sh [tests] [bench ROWS...] [gemm] [gemm-silu] [attention] [attention-sweep] [rope]
#     [sampler] [allreduce]
# Unpacks the bundle of tools/device/pack.sh to /tmp, prints the card, then runs each action in order (none given:
# tests):
#   tests           the GPU tests: the JUnit console launcher over the kernels module's test classes
#   bench ROWS...   benchmarks/gpu_bench.sh with those rows, JAVA and CP exported
#   gemm            the GEMM benchmark (io.kindling.cuda.GemmBench)
#   gemm-silu       gate_up with SiLU-and-multiply fused into the GEMM against the two kernels (GemmBench --silu-mul)
#   attention       the paged-attention benchmark (io.kindling.cuda.AttentionBench)
#   attention-sweep the same over every decode tuning (AttentionBench --sweep): one table, best first
#   rope            RoPE + K/V cache write, the two kernels against the fused one (io.kindling.cuda.RotaryCacheBench)
#   sampler         kd_sample at batch 256 in six sampling modes (io.kindling.cuda.SamplerBench); with
#                   KINDLING_SAMPLER_BASELINE=FATBIN, another build of sampling.cu beside this one
#   allreduce       the tensor-parallel all-reduce against a peer copy of the same bytes
#                   (io.kindling.cuda.AllReduceBench; GPUs 0,1 where there are two, else both ranks on GPU 0)
# KINDLING_TEST_OPTS adds JVM options to the tests, e.g. -Dkindling.gpuRefDir=DIR or -Dkindling.gpuRef1b=DIR;
# KINDLING_TEST_CLASS runs those test classes (space-separated, e.g. io.kindling.cuda.CudaEngineGpuTest) instead of
# all of them.
# Every log is also written to $OUT (/tmp/kindling-out when unset). Exits non-zero when any action failed.
set -uo pipefail

root="$(pwd)"
if [[ ! -f "$root/.device/bundle.tar.xz" ]]; then
  echo "gpu.sh: no .device/bundle.tar.xz here: run tools/device/pack.sh, and carry .device" >&2
  exit 2
fi
out="${OUT:-/tmp/kindling-out}"
mkdir -p "$out"
dir=/tmp/kindling
rm -rf "$dir"
tar -C /tmp -xJf "$root/.device/bundle.tar.xz" || exit 2
export JAVA="$dir/jre/bin/java"
export CP="$dir/lib/*"

{
  echo "card: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
  echo "bundle built at commit $(cat "$dir/COMMIT")"
} | tee "$out/device.txt"

tests() {
  # fixtures come from the repository's test resources; the engine's io.kindling.testing helpers from the bundle.
  # The launcher's --class-path takes no wildcards: every jar by name.
  local cp class
  local select=(--scan-classpath "$dir/test/kernels")
  if [[ -n "${KINDLING_TEST_CLASS:-}" ]]; then
    select=()
    for class in $KINDLING_TEST_CLASS; do
      select+=(--select-class "$class")
    done
  fi
  cp="$(printf '%s:' "$dir"/lib/*.jar)$dir/test/kernels:$dir/test/engine:$root/engine/src/test/resources"
  # shellcheck disable=SC2086  # KINDLING_TEST_OPTS is a list of options
  "$JAVA" -Xss4m ${KINDLING_TEST_OPTS:-} -jar "$dir/test/junit-console.jar" execute --disable-banner \
    --disable-ansi-colors --details=tree --class-path "$cp" "${select[@]}" 2>&1 \
    | tee "$out/tests.log"
}

bench() {
  bash "$root/benchmarks/gpu_bench.sh" "$@" 2>&1 | tee "$out/bench.log"
}

structured() {
  bash "$root/benchmarks/structured_bench.sh" "$@" 2>&1 | tee "$out/structured.log"
}

main_class() { # LOG CLASS [ARGS...]: a kernel benchmark's main (kernels test classes) on the bundle's classpath
  local log="$1"
  shift
  "$JAVA" -cp "$CP:$dir/test/kernels" "$@" 2>&1 | tee "$out/$log.log"
}

actions=("$@")
(( ${#actions[@]} > 0 )) || actions=(tests)
status=0
i=0
while (( i < ${#actions[@]} )); do
  action="${actions[i]}"
  i=$((i + 1))
  case "$action" in
    tests) tests || status=1 ;;
    bench)
      rows=()
      while (( i < ${#actions[@]} )) && [[ ! "${actions[i]}" =~ ^(tests|bench|structured|gemm|gemm-silu|attention|attention-sweep|rope|sampler|allreduce)$ ]]; do
        rows+=("${actions[i]}")
        i=$((i + 1))
      done
      bench "${rows[@]}" || status=1
      ;;
    structured) structured || status=1 ;;
    gemm) main_class gemm io.kindling.cuda.GemmBench || status=1 ;;
    gemm-silu) main_class gemm-silu io.kindling.cuda.GemmBench --silu-mul || status=1 ;;
    attention) main_class attention io.kindling.cuda.AttentionBench || status=1 ;;
    attention-sweep) main_class attention-sweep io.kindling.cuda.AttentionBench --sweep || status=1 ;;
    rope) main_class rope io.kindling.cuda.RotaryCacheBench || status=1 ;;
    sampler)
      main_class sampler io.kindling.cuda.SamplerBench ${KINDLING_SAMPLER_BASELINE:+--fatbin "$KINDLING_SAMPLER_BASELINE"} \
        || status=1
      ;;
    allreduce) main_class allreduce io.kindling.cuda.AllReduceBench || status=1 ;;
    *)
      echo "gpu.sh: unknown action '$action': expected tests, bench ROWS..., structured, gemm, attention," \
        "attention-sweep, rope, sampler or allreduce" >&2
      exit 2
      ;;
  esac
done
exit "$status"
