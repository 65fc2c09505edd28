#!/usr/bin/env bash
# Runs on a GPU host (with the repository and .device/bundle.tar.xz from tools/device/pack.sh), from the repository root:
#   bash tools/device/gpu.sh [tests] [bench ROWS...] [ab ROWS...] [gemm] [gemm-silu] [attention] [attention-sweep]
#     [rope] [sampler] [allreduce]
# Unpacks the bundle of tools/device/pack.sh to /tmp, prints the card, then runs each action in order (none given:
# tests):
#   tests           the GPU tests: the JUnit console launcher over the kernels module's test classes
#   bench ROWS...   benchmarks/gpu_bench.sh with those rows, JAVA and CP exported
#   ab ROWS...      the same rows against a baseline (tools/device/baseline.sh REV): baseline, this bundle, baseline,
#                   this bundle, each run's decode step time printed
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

# The bench rows of `bench`, run four times: the baseline of tools/device/baseline.sh (its entries laid over this
# bundle's kernels jar), this bundle, the baseline, this bundle; same card, same call. Prints each run's step times.
ab() {
  if [[ ! -f "$root/.device/baseline.zip" ]]; then
    echo "gpu.sh: ab needs .device/baseline.zip: run tools/device/baseline.sh REV where the bundle was packed" >&2
    return 2
  fi
  local jar="$dir/lib/kindling-kernels.jar" run variant
  cp "$jar" "$dir/kernels-current.jar"
  python3 - "$jar" "$root/.device/baseline.zip" "$dir/kernels-baseline.jar" <<'EOF' || return 1
import sys, zipfile
current, overlay, out = sys.argv[1:]
with zipfile.ZipFile(overlay) as o:
    entries = {name: o.read(name) for name in o.namelist()}
removes = set(entries.pop("BASELINE-REMOVES").decode().split())
print("gpu.sh: baseline " + entries.pop("BASELINE-COMMIT").decode().strip() + ", " + str(len(entries))
      + " entries laid over this bundle's kernels jar")
with zipfile.ZipFile(current) as c, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    for item in c.infolist():
        if item.filename not in removes and item.filename not in entries:
            z.writestr(item, c.read(item))
    for name, data in entries.items():
        z.writestr(name, data)
EOF
  local status=0
  for run in 1 2; do
    for variant in baseline current; do
      cp "$dir/kernels-$variant.jar" "$jar"
      echo "== ab: $variant, run $run" | tee -a "$out/ab.log"
      OUT="$out/ab-$variant-$run" bash "$root/benchmarks/gpu_bench.sh" "$@" > "$out/ab-$variant-$run.log" 2>&1 \
        || status=1
      grep -E "step, wall time|^\| [0-9a-z]+-(fixed|wide) " "$out/ab-$variant-$run.log" | tee -a "$out/ab.log"
    done
  done
  cp "$dir/kernels-current.jar" "$jar"
  return "$status"
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
    bench|ab)
      rows=()
      while (( i < ${#actions[@]} )) && [[ ! "${actions[i]}" =~ ^(tests|bench|ab|structured|gemm|gemm-silu|attention|attention-sweep|rope|sampler|allreduce)$ ]]; do
        rows+=("${actions[i]}")
        i=$((i + 1))
      done
      "$action" "${rows[@]}" || status=1
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
      echo "gpu.sh: unknown action '$action': expected tests, bench ROWS..., ab ROWS..., structured, gemm," \
        "attention, attention-sweep, rope, sampler or allreduce" >&2
      exit 2
      ;;
  esac
done
exit "$status"
