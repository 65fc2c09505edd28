#!/usr/bin/env bash
# Rehearses the GPU host's side of tools/device/pack-spark.sh here, on the CPU, before GPU time is spent: copies
# what a transfer to the host sends (the repository's tracked and untracked, not ignored files) and the parts into
# a temporary directory, then, there, as tools/device/spark-gpu.sh runs on the GPU host, with a `java` on the PATH
# that refuses to run (the host has none: everything must use the bundle's JRE):
#   1. check with the last part withheld (must name it), then with all parts;
#   2. the README's job on the bundled model, --device cpu, on local[2];
#   3. the same on local-cluster[1,2,1024] with GPU resources (examples/gpu/getGpusResources.sh over a stand-in
#      nvidia-smi listing GPU 0): same output as local[2];
#   4. that job with spark.kindling.device=cuda: the task must fail on this CPU host naming cuda:0 as the address
#      Spark assigned (the binding itself works end to end);
#   5. benchmarks/spark_gpu.sh --device cpu on a tiny Llama-3-vocabulary checkpoint (a fixture and the real
#      tokenizer), a few prompts.
#   tools/device/rehearse-spark.sh        (after tools/device/pack-spark.sh)
# Exits non-zero at the first step that does not go as it should; the temporary directory stays for a look.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
compgen -G ".device/spark/part*/MANIFEST" > /dev/null || { echo "rehearse: run tools/device/pack-spark.sh first" >&2; exit 2; }
tmp="$(mktemp -d /tmp/kindling-rehearsal.XXXXXX)"
host="$tmp/host"
echo "rehearse: in $tmp" >&2

# what a transfer sends, and the parts
mkdir -p "$host/.device"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -p {} "$host/" 2>/dev/null || true
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$host/$f" || ! -e "$f" ]] || { echo "rehearse: $f did not copy" >&2; exit 1; }
done
cp -r .device/spark "$host/.device/"
# a transfer may not keep exec bits: everything runs through bash, and Spark's discovery script from an executable copy
find "$host" -type f -exec chmod a-x {} +
install -m 755 examples/gpu/getGpusResources.sh "$tmp/getGpusResources.sh"

# the host's PATH: no java of its own; nvidia-smi lists one GPU
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "rehearse: a plain java was called: $*" >&2\nexit 97\n' > "$tmp/bin/java"
printf '#!/bin/sh\necho 0\n' > "$tmp/bin/nvidia-smi"
chmod +x "$tmp/bin/java" "$tmp/bin/nvidia-smi"
export PATH="$tmp/bin:$PATH"
export KINDLING_SPARK_HOME="$tmp/kindling-spark"
cd "$host"

echo "=== 1. check" >&2
parts=(.device/spark/part*)
last="${parts[-1]}"
mv "$last" "$tmp/withheld"
if bash tools/device/spark-gpu.sh check 2> "$tmp/check.log"; then
  echo "rehearse: check passed with $last withheld" >&2; exit 1
fi
grep -q "MISSING.*send $last to $host/$last/" "$tmp/check.log" || { cat "$tmp/check.log" >&2; exit 1; }
mv "$tmp/withheld" "$last"
bash tools/device/spark-gpu.sh check

job=(--model examples/models/kindling-define-6m --input examples/data/words.jsonl --conf spark.ui.enabled=false
  --conf spark.kindling.maxTokens=12 --conf spark.kindling.kvCacheMemory=64m --sample 1)
cluster=(--master 'local-cluster[1,2,1024]' --conf spark.task.maxFailures=1
  --conf spark.worker.resource.gpu.amount=1 --conf spark.worker.resource.gpu.discoveryScript="$tmp/getGpusResources.sh"
  --conf spark.executor.resource.gpu.amount=1 --conf spark.executor.resource.gpu.discoveryScript="$tmp/getGpusResources.sh"
  --conf spark.task.resource.gpu.amount=0.5 --conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector)
export SPARK_SCALA_VERSION=2.13

echo "=== 2. local[2], device cpu" >&2
bash tools/device/spark-gpu.sh run bash bin/kindling spark "${job[@]}" --master 'local[2]' --output "$tmp/local" \
  --conf spark.kindling.device=cpu

echo "=== 3. local-cluster[1,2,1024] with GPU resources, device cpu" >&2
SPARK_TESTING=1 KINDLING_JAVA_OPTS="-Dspark.testing=1 -Dspark.test.home=$tmp" bash tools/device/spark-gpu.sh run \
  bash bin/kindling spark "${job[@]}" "${cluster[@]}" --output "$tmp/cluster" --conf spark.kindling.device=cpu
python3 benchmarks/spark_workload.py compare "$tmp/local" "$tmp/cluster"

echo "=== 4. local-cluster with device cuda: the task binds to the address Spark assigned" >&2
if SPARK_TESTING=1 KINDLING_JAVA_OPTS="-Dspark.testing=1 -Dspark.test.home=$tmp" bash tools/device/spark-gpu.sh run \
  bash bin/kindling spark "${job[@]}" "${cluster[@]}" --output "$tmp/cuda" --conf spark.kindling.device=cuda \
  2> "$tmp/cuda.log"; then
  echo "rehearse: device cuda ran on a host without a GPU" >&2; exit 1
fi
grep -m1 -o "spark.kindling.device=cuda bound to cuda:0 (GPU address 0 that Spark assigned to this task)[^:]*" "$tmp/cuda.log" \
  || { tail -5 "$tmp/cuda.log" >&2; exit 1; }

echo "=== 5. benchmarks/spark_gpu.sh --device cpu on a tiny checkpoint" >&2
tiny="$tmp/llama3-tiny"
mkdir -p "$tiny"
cp engine/src/test/resources/fixtures/llama3-tiny/{config.json,generation_config.json,model.safetensors} "$tiny/"
gunzip -c engine/src/test/resources/tokenizers/llama3_1/tokenizer.json.gz > "$tiny/tokenizer.json"
cp engine/src/test/resources/tokenizers/llama3_1/tokenizer_config.json "$tiny/"
OUT="$tmp/bench-out" bash tools/device/spark-gpu.sh run bash benchmarks/spark_gpu.sh --device cpu --checkpoint "$tiny" \
  --num-prompts 12 --output-len 6 --slots 2 --executor-memory 2048 --det-prompts 12 --det-max-tokens 4
echo "rehearse: all steps went as they should ($tmp)" >&2
