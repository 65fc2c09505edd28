#!/usr/bin/env bash
# The GPU figures of benchmarks/RESULTS.md's roofline sections (issue 10), in parts of under 10 minutes each
# on an H100 or H200, from the repository root on the GPU host, with the bundle of tools/device/pack.sh in .device/:
#   bash tools/device/roofline.sh kernels    the GPU tests with bf16 references (tools/device/README.md), the
#                                            ceilings, GEMM against torch.matmul (every shape, every m; every plan at
#                                            m = 128..512), RoPE + K/V write, every decode-attention tuning,
#                                            kd_sample in six sampling modes
#   bash tools/device/roofline.sh profiles   the decode step at batch 256 with its profile: 1B with asynchronous
#                                            scheduling on and off, 8B on (300 prompts)
#   bash tools/device/roofline.sh hf         both shapes on the wide mix against Hugging Face generate()
#   bash tools/device/roofline.sh tp         issue 17, on a host with two GPUs: the tensor-parallel tests across the
#                                            cards (the 1B checkpoint included), the all-reduce against a peer copy,
#                                            the 8B step at N = 1 and N = 2 (300 prompts); data parallelism through
#                                            Spark is benchmarks/spark_gpu.sh --gpus 2
# Logs go to $OUT (/tmp/kindling-out when unset), one per step, each named after it; a line per step says how long it
# took. Exits non-zero when a step failed.
set -uo pipefail

out="${OUT:-/tmp/kindling-out}"
export OUT="$out"
mkdir -p "$out"
start=$SECONDS
status=0

# step NAME COMMAND...: runs COMMAND with its output in $out/NAME.log
step() {
  local name=$1
  shift
  "$@" > "$out/$name.log" 2>&1 || { status=1; echo "roofline: $name failed, see $out/$name.log" >&2; }
  echo "roofline: $name done at $((SECONDS - start)) s"
}

# gpu.sh bench keeps its log and row files under fixed names: move them aside under NAME
bench() {
  local name=$1
  shift
  step "$name" bash tools/device/gpu.sh bench "$@"
  mv "$out/bench.log" "$out/$name.bench.log" 2>/dev/null
  rm -f "$out"/bench/*.workload.jsonl  # the saved prompts: large, and made again from the seed
  mv "$out/bench" "$out/$name" 2>/dev/null
}

references() {
  local f
  for f in llama3-tiny llama2-tiny mistral-tiny qwen2-tiny qwen3-tiny; do
    mkdir -p "/tmp/refs/$f"
    python3 tools/fixtures/make_gpu_reference.py bf16 "engine/src/test/resources/fixtures/$f" \
      "/tmp/refs/$f/reference.json" --device cuda || return 1
  done
  python3 tools/fixtures/make_gpu_reference.py build /tmp/ref1b --device cuda
}

main_class() { # CLASS [ARGS...]: a kernels test class's main on the bundle unpacked by gpu.sh
  /tmp/kindling/jre/bin/java -cp "/tmp/kindling/lib/*:/tmp/kindling/test/kernels" "$@"
}

case "${1:-}" in
  kernels)
    step references references
    KINDLING_TEST_OPTS='-Dkindling.gpuRefDir=/tmp/refs -Dkindling.gpuRef1b=/tmp/ref1b' \
      step gpu-tests bash tools/device/gpu.sh tests
    grep -E 'tests (successful|failed)' "$out/tests.log"
    step ceilings python3 benchmarks/ceilings.py
    step gemm main_class io.kindling.cuda.GemmBench
    step gemm-plans main_class io.kindling.cuda.GemmBench --all-tiles --m 128,256,512
    step gemm-torch python3 benchmarks/gemm_torch.py
    step rope main_class io.kindling.cuda.RotaryCacheBench 4 8 16
    step attention-sweep main_class io.kindling.cuda.AttentionBench --sweep
    step sampler main_class io.kindling.cuda.SamplerBench
    ;;
  profiles)
    bench profile-1b-async 1b-fixed --skip-hf --ours-args "--profile --max-num-seqs 256"
    KINDLING_JAVA_OPTS=-Dkindling.asyncScheduling=false \
      bench profile-1b-sync 1b-fixed --skip-hf --ours-args "--profile --max-num-seqs 256"
    bench profile-8b-async 8b-fixed --skip-hf --num-prompts 300 --ours-args "--profile --max-num-seqs 256"
    ;;
  hf)
    bench wide-1b 1b-wide --hf-max-requests 256 --hf-batch-size 256
    bench wide-8b 8b-wide --hf-max-requests 64 --hf-batch-size 64
    ;;
  tp)
    step references-1b python3 tools/fixtures/make_gpu_reference.py build /tmp/ref1b --device cuda
    KINDLING_TEST_CLASS='io.kindling.cuda.PeerAllReduceGpuTest io.kindling.cuda.CudaTensorParallelGpuTest
      io.kindling.cuda.CudaTensorParallelAsyncGpuTest' \
      KINDLING_TEST_OPTS='-Dkindling.tpDevices=cuda:0,1 -Dkindling.gpuRef1b=/tmp/ref1b' \
      step tp-tests bash tools/device/gpu.sh tests
    grep -E 'tests (successful|failed)' "$out/tests.log"
    step allreduce main_class io.kindling.cuda.AllReduceBench --devices 0,1
    bench tp-8b-n1 8b-fixed --skip-hf --num-prompts 300 --device cuda:0 --ours-args "--profile --max-num-seqs 256"
    bench tp-8b-n2 8b-fixed --skip-hf --num-prompts 300 --device cuda:0,1 \
      --ours-args "--profile --max-num-seqs 256 --tensor-parallel-size 2"
    ;;
  *)
    sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
exit "$status"
