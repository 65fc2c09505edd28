#!/usr/bin/env bash
# The Spark path against the engine alone on one GPU, with the same text prompts and options (issue 11). On the
# GPU host, from the repository root, with bin/kindling runnable (a build, or the bundle of
# tools/device/pack-spark.sh staged by `tools/device/spark-gpu.sh run`):
#
#   bash benchmarks/spark_gpu.sh [options]
#
# 1. checkpoint: a Llama-3.2-1B-shaped random bf16 checkpoint with the Llama 3 tokenizer
#    (tools/fixtures/make_gpu_reference.py build), unless --checkpoint already holds one
# 2. workload: `kindling bench --random-weights --dataset wide` on that shape saves its prompt and output lengths
#    (input and output uniform in 16..1024, seed 0: DESIGN.md's wide mix) and measures the engine on token ids
# 3. prompts: benchmarks/spark_workload.py build turns the lengths into text prompts; `kindling generate` reports
#    how they re-tokenize (spark_workload.py check)
# 4. throughput, output tokens/s, each timed by the tool itself from before the engine starts to the last row:
#      engine alone  kindling generate --device cuda
#      local[N]      kindling spark, spark.kindling.device=cuda (the driver runs the tasks: the default GPU)
#      cluster       kindling spark on local-cluster[1,N,MEM]: one executor JVM given the GPU by Spark's resource
#                    scheduling (spark.executor.resource.gpu.amount=1, spark.task.resource.gpu.amount=1/N,
#                    examples/gpu/getGpusResources.sh), spark.kindling.device=cuda binding to the assigned address
#      cluster-G     with --gpus G > 1: kindling spark on local-cluster[G,N,MEM], one executor JVM per GPU (each
#                    worker claims its own address), G x --partitions partitions: data parallelism, to set against
#                    the one-GPU cluster run
#    each Spark run's text compared with the engine alone's, row by row
# 5. determinism: kindling spark with 1 and with 8 partitions, at temperature 0 and at 0.8 with seed 42, compared
#
# Options:
#   --checkpoint DIR     the checkpoint (default /tmp/kindling-llama-1b; built there when DIR/config.json is missing)
#   --num-prompts N      prompts of the workload (default 1000)
#   --output-len N|wide  max_tokens of every prompt (default 512); wide: each prompt's own from the workload (a
#                        max_tokens field of each row, which kindling generate and kindling spark both read)
#   --slots N            task slots: local[N], local-cluster[1,N,MEM] with a GPU share of 1/N (default 4)
#   --partitions N       partitions of the throughput runs (default: --slots)
#   --executor-memory MB the local-cluster worker's memory and its executor's heap (default 16384)
#   --gpus G             GPUs for the data-parallel run (default 1: no such run)
#   --det-prompts N      prompts of the determinism runs (default 200)
#   --det-max-tokens N   their max_tokens (default 64)
#   --device D           cuda (default); cpu runs the same steps without a GPU (with --checkpoint given, and a
#                        discovery script that finds a GPU address, e.g. with a stand-in nvidia-smi on the PATH)
# Env: PYTHON (default python3); OUT (when set, the table and the whole log are written there as well).
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

checkpoint=/tmp/kindling-llama-1b num_prompts=1000 output_len=512 slots=4 partitions="" executor_mb=16384
det_prompts=200 det_max_tokens=64 device=cuda gpus=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --checkpoint) checkpoint="$2"; shift 2 ;;
    --num-prompts) num_prompts="$2"; shift 2 ;;
    --output-len) output_len="$2"; shift 2 ;;
    --slots) slots="$2"; shift 2 ;;
    --partitions) partitions="$2"; shift 2 ;;
    --executor-memory) executor_mb="$2"; shift 2 ;;
    --gpus) gpus="$2"; shift 2 ;;
    --det-prompts) det_prompts="$2"; shift 2 ;;
    --det-max-tokens) det_max_tokens="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "spark_gpu.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
partitions="${partitions:-$slots}"
root="$(pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d /tmp/kindling-spark-bench.XXXXXX)"
log="$work/spark_gpu.log"
# run through bash and from a copy made executable: a copied checkout may have lost its files' exec bits
kindling=(bash "$root/bin/kindling")
workload_py="$root/benchmarks/spark_workload.py"
discovery="$work/getGpusResources.sh"
install -m 755 "$root/examples/gpu/getGpusResources.sh" "$discovery"
# local-cluster's workers share one configuration, and each would take the host's first GPU: each worker's
# discovery instead claims the first address of the host's list that no other worker took (mkdir is atomic)
claims="$work/gpu-claims"
claiming="$work/claimGpu.sh"
cat > "$claiming" <<EOF
#!/usr/bin/env bash
set -euo pipefail
for address in \$(bash "$discovery" | grep -o '"[0-9]*"' | tr -d '"'); do
  if mkdir "$claims/\$address" 2>/dev/null; then
    echo "{\"name\": \"gpu\", \"addresses\": [\"\$address\"]}"
    exit 0
  fi
done
echo "claimGpu.sh: every GPU address is taken by another worker" >&2
exit 1
EOF
chmod 755 "$claiming"
exec > >(tee "$log") 2>&1

step() { echo; echo "=== $*"; }

# seconds LOG: the time a tool reported for its run ("... in 12.3s" or "... rows in 12.3 s")
seconds() { sed -n 's/.* in \([0-9.]*\) \{0,1\}s\b.*/\1/p' "$1" | tail -1; }

# spark NAME ARGS...: bin/kindling spark on the prompts, output in $work/NAME, its log in $work/NAME.log
spark() {
  local name="$1"
  shift
  "${kindling[@]}" spark --model "$checkpoint" --output "$work/$name" --sample 0 --conf spark.ui.enabled=false \
    --conf spark.kindling.device="$device" --conf spark.kindling.ignoreEos=true "$@" 2>&1 | tee "$work/$name.log"
  return "${PIPESTATUS[0]}"
}

# local-cluster's worker starts executor JVMs only under Spark's test switches (any existing directory is its
# home), from the driver's class path; the worker hands the GPU that the discovery script lists to the executor
# (cluster WORKERS NAME ARGS...: each worker runs one executor with one GPU)
cluster() {
  local workers="$1"
  shift
  rm -rf "$claims" && mkdir -p "$claims"
  SPARK_TESTING=1 SPARK_SCALA_VERSION=2.13 \
    KINDLING_JAVA_OPTS="-Dspark.testing=1 -Dspark.test.home=$work ${KINDLING_JAVA_OPTS:-}" spark "$@" \
    --master "local-cluster[$workers,$slots,$executor_mb]" \
    --conf spark.worker.resource.gpu.amount=1 --conf spark.worker.resource.gpu.discoveryScript="$claiming" \
    --conf spark.executor.resource.gpu.amount=1 --conf spark.executor.resource.gpu.discoveryScript="$discovery" \
    --conf spark.task.resource.gpu.amount="$(awk -v n="$slots" 'BEGIN {print 1 / n}')" \
    --conf spark.executor.memory="${executor_mb}m" \
    --conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector
}

card="$device"
[[ "$device" == cpu ]] || card="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
echo "device: $card"
echo "work directory: $work"

if [[ ! -f "$checkpoint/config.json" ]]; then
  step "checkpoint: $checkpoint"
  "$python" "$root/tools/fixtures/make_gpu_reference.py" build "$checkpoint" --device "$device" || exit 1
fi

step "workload: kindling bench --random-weights, wide mix, $num_prompts prompts (the engine on token ids)"
"${kindling[@]}" bench --model "$checkpoint" --random-weights --device "$device" --dataset wide \
  --num-prompts "$num_prompts" --seed 0 --save-workload "$work/workload.jsonl" --json-out "$work/bench.json" \
  || exit 1

step "prompts"
length_flag=()
[[ "$output_len" == wide ]] || length_flag=(--output-len "$output_len")
"$python" "$workload_py" build --workload "$work/workload.jsonl" --tokenizer "$checkpoint/tokenizer.json" \
  --out "$work/prompts.jsonl" "${length_flag[@]}" || exit 1

step "engine alone: kindling generate --device $device --temperature 0"
"${kindling[@]}" generate --model "$checkpoint" --input "$work/prompts.jsonl" --output "$work/generate.jsonl" \
  --device "$device" --temperature 0 2>&1 | tee "$work/generate.log" || exit 1
"$python" "$workload_py" check --workload "$work/workload.jsonl" --generated "$work/generate.jsonl"

step "Spark local[$slots], $partitions partitions"
spark local --master "local[$slots]" --input "$work/prompts.jsonl" --partitions "$partitions" \
  --conf spark.kindling.temperature=0

step "Spark local-cluster[1,$slots,$executor_mb] with GPU resources, $partitions partitions"
cluster 1 cluster --input "$work/prompts.jsonl" --partitions "$partitions" --conf spark.kindling.temperature=0
runs=(generate local cluster)

if (( gpus > 1 )); then
  step "Spark local-cluster[$gpus,$slots,$executor_mb], one executor per GPU, $((gpus * partitions)) partitions"
  cluster "$gpus" "cluster-$gpus" --input "$work/prompts.jsonl" --partitions "$((gpus * partitions))" \
    --conf spark.kindling.temperature=0
  runs+=("cluster-$gpus")
fi

rows=()
engine_rate=""
for run in "${runs[@]}"; do
  if [[ "$run" == generate ]]; then
    tokens="$("$python" "$workload_py" tokens "$work/generate.jsonl")"
    agreement="-"
  else
    tokens="$("$python" "$workload_py" tokens "$work/$run" --prompts "$work/prompts.jsonl")"
    agreement="$("$python" "$workload_py" compare "$work/generate.jsonl" "$work/$run" | cut -d';' -f1)"
  fi
  secs="$(seconds "$work/$run.log")"
  rate="$(awk -v t="$tokens" -v s="$secs" 'BEGIN {if (t > 0 && s > 0) printf "%.0f", t / s}')"
  [[ "$run" == generate ]] && engine_rate="$rate"
  ratio="$(awk -v r="$rate" -v e="$engine_rate" 'BEGIN {if (r > 0 && e > 0) printf "%.1f%%", 100 * r / e}')"
  # the engine's mean batch: generate's summary, or the Spark job's last progress line
  batch="$(grep -o '[0-9.]* sequences a step on average' "$work/$run.log" | cut -d' ' -f1)"
  [[ -n "$batch" ]] || batch="$(grep -o 'mean batch [0-9.]*' "$work/$run.log" | tail -1 | cut -d' ' -f3)"
  rows+=("| $run | ${tokens:-failed} | ${secs:-failed} | ${rate:-failed} | ${ratio:--} | ${batch:--} | $agreement |")
done

step "determinism: $det_prompts prompts, $det_max_tokens tokens, 1 and 8 partitions on local[$slots]"
# the first prompts, each asking for --det-max-tokens (a row's max_tokens field is its own option)
"$python" -c 'import json, sys
for line in sys.stdin.readlines()[:int(sys.argv[1])]:
    row = json.loads(line); row["max_tokens"] = int(sys.argv[2]); print(json.dumps(row))' \
  "$det_prompts" "$det_max_tokens" < "$work/prompts.jsonl" > "$work/det-prompts.jsonl"
det=()
for sampling in "temperature 0" "temperature 0.8, seed 42"; do
  conf=(--conf spark.kindling.temperature=0)
  [[ "$sampling" == "temperature 0" ]] || conf=(--conf spark.kindling.temperature=0.8 --conf spark.kindling.seed=42)
  tag="$(echo "$sampling" | tr -cd '0-9')"
  result=""
  for n in 1 8; do
    spark "det-$tag-$n" --master "local[$slots]" --input "$work/det-prompts.jsonl" --partitions "$n" \
      "${conf[@]}" > /dev/null || result="the $n-partition run failed"
  done
  det+=("| $sampling | ${result:-$("$python" "$workload_py" compare "$work/det-$tag-1" "$work/det-$tag-8")} |")
done

# the commit: the checkout's, or on a host without git the staged bundle's
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null \
  || cat "${KINDLING_SPARK_HOME:-/tmp/kindling-spark}/COMMIT" 2>/dev/null)"
bench_rate="$("$python" -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["output_tokens_per_s"]))' \
  "$work/bench.json" 2>/dev/null || echo failed)"
{
  echo
  echo "Spark path vs engine alone on $card, $(date -u +%F), commit $commit"
  echo "checkpoint $checkpoint; $num_prompts prompts of the wide mix's input lengths, max_tokens $output_len," \
    "ignore_eos, temperature 0; Spark: $partitions partitions, $slots task slots"
  echo "engine's own bench on token ids (same lengths, its own sampling): $bench_rate output tok/s, mean batch" \
    "$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["mean_batch_size"])' "$work/bench.json" \
      2>/dev/null || echo failed) sequences a step"
  echo "engine alone (generate): $(grep -o '[0-9.]* sequences a step on average' "$work/generate.log" || echo 'mean batch not reported')"
  echo
  echo "| run | output tokens | seconds | output tok/s | of engine alone | mean batch | text equal to engine alone's |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Same job with 1 and with 8 partitions:"
  echo
  echo "| sampling | outputs |"
  echo "|---|---|"
  printf '%s\n' "${det[@]}"
} | tee "$work/spark_gpu.md"
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  cp "$work/spark_gpu.md" "$log" "$OUT/"
fi
