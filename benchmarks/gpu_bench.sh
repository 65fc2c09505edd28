#!/usr/bin/env bash
# Throughput of `kindling bench --device cuda` against Hugging Face generate() on the same workload, shape and
# card, in one call on the GPU machine (run from the repository root). For each row: our bench on random
# weights saves its exact workload, hf_baseline.py runs that workload, and one table row compares them.
#
#   JAVA=/path/to/java CP=<classpath> benchmarks/gpu_bench.sh [options] ROW...
#
# Rows (DESIGN.md "Performance"; the wide mix draws input and output lengths uniformly from 16 to 1024):
#   1b-fixed  Llama-3.2-1B shape, 1000 prompts, input 512, output 256
#   1b-wide   Llama-3.2-1B shape, 1000 prompts, wide mix
#   8b-fixed  Llama-3.1-8B shape, 500 prompts, input 1024, output 128
#   8b-wide   Llama-3.1-8B shape, 500 prompts, wide mix
#   all       the four above
#   70b-fixed Llama-3.1-70B shape (141 GB of bf16 weights: several cards, e.g. --device cuda:0,1,2,3 --ours-args
#             "--tensor-parallel-size 4"), 200 prompts, input 1024, output 128; ours only (no HF baseline)
# Options:
#   --hf-max-requests N   HF runs a seeded subset of N requests of the workload (noted in the table)
#   --hf-batch-size N     HF static batch size (default: probe 256,128,64,32 and keep the fastest that fits)
#   --num-prompts N       override every row's prompt count (smoke tests)
#   --warmup STEPS        our warm-up batch's output tokens before timing (default 8)
#   --skip-hf             our bench only
#   --device DEVICE       cuda (default), cuda:N, cuda:N,M,... (one GPU per tensor-parallel rank); cpu runs the
#                         script's logic on tiny shapes
#   --ours-args "ARGS"    more flags for our bench (e.g. "--profile --max-num-seqs 512")
# Env: JAVA, CP (required); PYTHON (default python3); KINDLING_JAVA_OPTS (extra JVM options); OUT (when set,
# logs, workloads and JSON go there, else to a temporary directory).
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

hf_max_requests="" hf_batch_size="" num_prompts="" warmup=8 skip_hf="" device=cuda ours_args="" rows=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hf-max-requests) hf_max_requests="$2"; shift 2 ;;
    --hf-batch-size) hf_batch_size="$2"; shift 2 ;;
    --num-prompts) num_prompts="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --skip-hf) skip_hf=1; shift ;;
    --device) device="$2"; shift 2 ;;
    --ours-args) ours_args="$2"; shift 2 ;;
    all) rows+=(1b-fixed 1b-wide 8b-fixed 8b-wide); shift ;;
    1b-fixed|1b-wide|8b-fixed|8b-wide|70b-fixed) rows+=("$1"); shift ;;
    -h|--help) usage ;;
    *) echo "gpu_bench.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ ${#rows[@]} -gt 0 ]] || usage
: "${JAVA:?set JAVA to the java binary}" "${CP:?set CP to the classpath}"
python="${PYTHON:-python3}"
out="${OUT:-$(mktemp -d)}/bench"
mkdir -p "$out"
# as bin/kindling: the Vector API for the CPU paths, java.nio opened for Arrow, a deep stack for templates
java_flags=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-modules=jdk.incubator.vector -Xss4m)

# row -> shape, prompts, our dataset flags
row_spec() {
  case "$1" in
    1b-fixed) echo "llama-3.2-1b 1000 --dataset fixed --input-len 512 --output-len 256" ;;
    1b-wide) echo "llama-3.2-1b 1000 --dataset wide" ;;
    8b-fixed) echo "llama-3.1-8b 500 --dataset fixed --input-len 1024 --output-len 128" ;;
    8b-wide) echo "llama-3.1-8b 500 --dataset wide" ;;
    70b-fixed) echo "llama-3.1-70b 200 --dataset fixed --input-len 1024 --output-len 128" ;;
  esac
}

# field FILE KEY: a number from a JSON file, or "-" when the file is missing
field() {
  [[ -s "$1" ]] || { echo "-"; return; }
  "$python" -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"
}

table=()
for row in "${rows[@]}"; do
  read -r shape prompts dataset_flags <<<"$(row_spec "$row")"
  prompts="${num_prompts:-$prompts}"
  workload="$out/$row.workload.jsonl"
  echo "=== $row: ours ($shape, $prompts prompts, $dataset_flags)"
  start=$SECONDS
  # shellcheck disable=SC2086  # dataset flags, --ours-args and KINDLING_JAVA_OPTS are word lists
  "$JAVA" "${java_flags[@]}" ${KINDLING_JAVA_OPTS:-} -cp "$CP" io.kindling.cli.Main bench \
    --model "benchmarks/shapes/$shape" --random-weights --device "$device" --num-prompts "$prompts" $dataset_flags \
    --seed 0 --warmup "$warmup" --save-workload "$workload" --json-out "$out/$row.ours.json" $ours_args 2>&1 \
    | tee "$out/$row.ours.log"
  echo "--- ours took $((SECONDS - start)) s (rc ${PIPESTATUS[0]})"

  hf_note="-"
  # generate() on one card cannot hold the 70B shape: that row is ours only
  if [[ -z "$skip_hf" && "$row" != 70b-* && -s "$workload" ]]; then
    hf_args=(--config "benchmarks/shapes/$shape" --workload "$workload" --device "$device"
      --json-out "$out/$row.hf.json")
    if [[ -n "$hf_batch_size" ]]; then hf_args+=(--batch-size "$hf_batch_size"); else hf_args+=(--find-batch-size); fi
    [[ -n "$hf_max_requests" ]] && hf_args+=(--max-requests "$hf_max_requests")
    echo "=== $row: Hugging Face"
    start=$SECONDS
    "$python" benchmarks/hf_baseline.py "${hf_args[@]}" 2>&1 | grep -v -e 'Loading weights' | tee "$out/$row.hf.log"
    echo "--- HF took $((SECONDS - start)) s (rc ${PIPESTATUS[0]})"
    if [[ "$(field "$out/$row.hf.json" subset)" == "True" ]]; then
      hf_note="subset $(field "$out/$row.hf.json" requests) of $(field "$out/$row.hf.json" workload_requests)"
    fi
    hf_note="$hf_note, batch $(field "$out/$row.hf.json" batch_size)"
  fi
  ours=$(field "$out/$row.ours.json" output_tokens_per_s)
  hf=$(field "$out/$row.hf.json" output_tokens_per_s)
  table+=("$("$python" - "$row" "$shape" "$ours" "$hf" "$hf_note" "$(field "$out/$row.ours.json" preemptions)" <<'EOF'
import sys
row, shape, ours, hf, note, preemptions = sys.argv[1:]
def num(s):
    return float(s) if s not in ("-", "") else None
o, h = num(ours), num(hf)
ratio = f"{o / h:.2f}x" if o and h else "-"
fmt = lambda v: f"{v:,.0f}" if v is not None else "failed"
print(f"| {row} | {shape} | {fmt(o)} | {fmt(h) if note != '-' else 'skipped'} | {ratio} | {preemptions} | {note.lstrip('-, ')} |")
EOF
)")
done

card="$(field "$out/${rows[0]}.ours.json" device)"
{
  echo
  echo "Output tokens/s on $card (ours: kindling bench --device $device --random-weights; HF: generate(), bf16, sdpa)"
  echo "| row | shape | ours out tok/s | HF out tok/s | ratio | our preemptions | HF run |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${table[@]}"
} | tee "$out/table.md"
