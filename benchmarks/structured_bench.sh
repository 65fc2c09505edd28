#!/usr/bin/env bash
# What structured output costs: `kindling bench` twice on the same seeded prompts, without a constraint and with
# the JSON schema benchmarks/structured/extract.json on every request, in one call (run from the repository root).
# Random weights of a shape; the vocabulary's bytes come from the Llama 3.1 tokenizer of the engine's test fixtures
# (128,256 tokens, the 1B and 8B shapes' vocab). With ignore_eos both runs generate the same tokens per request: a
# constrained output that completes early continues with EOS, the only token its automaton then allows.
#
#   JAVA=/path/to/java CP=<classpath> benchmarks/structured_bench.sh [--device cuda|cpu] [--shape llama-3.2-1b]
#       [--num-prompts 256] [--max-num-seqs 256] [--input-len 128] [--output-len 256] [--schema FILE] [--warmup N]
# Each run first runs an untimed batch of --warmup output tokens (default: --output-len) under its own settings, so
# the constrained run is timed with the token masks a long job would have cached (the engine keeps them per
# schema); the first visit of an automaton state costs one trie walk (see StructuredCompileBench).
# Env: OUT (when set, logs and JSON go there, else to a temporary directory); KINDLING_JAVA_OPTS.
set -uo pipefail

device=cuda shape=llama-3.2-1b prompts=256 seqs=256 input_len=128 output_len=256 warmup=
schema=benchmarks/structured/extract.json
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    --num-prompts) prompts="$2"; shift 2 ;;
    --max-num-seqs) seqs="$2"; shift 2 ;;
    --input-len) input_len="$2"; shift 2 ;;
    --output-len) output_len="$2"; shift 2 ;;
    --schema) schema="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
: "${JAVA:?set JAVA to the java binary}" "${CP:?set CP to the classpath}"
out="${OUT:-$(mktemp -d)}/structured"
mkdir -p "$out/tokenizer"
gunzip -c engine/src/test/resources/tokenizers/llama3_1/tokenizer.json.gz > "$out/tokenizer/tokenizer.json"
java_flags=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-modules=jdk.incubator.vector -Xss4m)

run() { # NAME [FLAGS...]
  local name="$1"
  shift
  # shellcheck disable=SC2086  # KINDLING_JAVA_OPTS is a word list
  "$JAVA" "${java_flags[@]}" ${KINDLING_JAVA_OPTS:-} -cp "$CP" io.kindling.cli.Main bench \
    --model "benchmarks/shapes/$shape" --random-weights --device "$device" --num-prompts "$prompts" \
    --max-num-seqs "$seqs" --input-len "$input_len" --output-len "$output_len" --seed 0 \
    --warmup "${warmup:-$output_len}" \
    --json-out "$out/$name.json" "$@" 2>&1 | tee "$out/$name.log"
}

echo "=== unconstrained"
run unconstrained
echo "=== every request under $schema"
run constrained --json-schema "$schema" --tokenizer "$out/tokenizer"
python3 - "$out/unconstrained.json" "$out/constrained.json" <<'PY'
import json, sys
plain, constrained = (json.load(open(f))["output_tokens_per_s"] for f in sys.argv[1:])
print(f"output tokens/s: unconstrained {plain:,.0f}, constrained {constrained:,.0f}, "
      f"overhead {100 * (1 - constrained / plain):.1f}%")
PY
