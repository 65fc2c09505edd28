#!/usr/bin/env bash
# Soak test of the Spark job runner: ROWS rows through `bin/kindling spark` on local-cluster[2,1,1024] (two
# executor JVMs of Spark's default size) while an executor is killed with kill -9 every KILL_EVERY seconds, so
# tasks fail mid-partition and Spark replaces the executor and reruns them. Prints rows in and out, duplicated
# and lost ids, the executors killed, and the live heap (after a full GC) of the executor that is never killed,
# sampled through the run. Exit status 1 if a row is lost or duplicated or the job fails. Run from anywhere:
#
#   benchmarks/spark_soak.sh [ROWS [KILL_EVERY [PARTITIONS]]]     (defaults: 100000 60 200)
#
# Needs python3, jcmd and jstat (a JDK). Generation is greedy with a short output (SOAK_MAX_TOKENS, default 8):
# the soak is about the job runner, not the model. Work files go to SOAK_DIR (default: a new directory in /tmp).
set -euo pipefail

rows="${1:-100000}"
kill_every="${2:-60}"
partitions="${3:-200}"
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
dir="${SOAK_DIR:-$(mktemp -d /tmp/kindling-soak.XXXXXX)}"
mkdir -p "$dir"
rm -f "$dir/heap.txt"
input="$dir/input.jsonl"
output="$dir/output"

# ROWS rows with unique ids, prompts cycling through the sample words
python3 - "$root/examples/data/words.jsonl" "$input" "$rows" <<'EOF'
import json, sys
words = [json.loads(line)["prompt"] for line in open(sys.argv[1])]
with open(sys.argv[2], "w") as out:
    for i in range(int(sys.argv[3])):
        out.write(json.dumps({"id": f"r{i}", "prompt": words[i % len(words)]}) + "\n")
EOF

# local-cluster executors take the driver's classpath when spark.testing is set (a Spark distribution is not
# needed); spark.test.home may be any directory.
export SPARK_TESTING=1 SPARK_SCALA_VERSION=2.13
export KINDLING_JAVA_OPTS="${KINDLING_JAVA_OPTS:-} -Dspark.testing=1 -Dspark.test.home=$dir"
"$root/bin/kindling" spark --model "$root/examples/models/kindling-define-6m" --input "$input" \
  --output "$output" --overwrite --format jsonl --partitions "$partitions" \
  --master 'local-cluster[2,1,1024]' --progress-interval 30 --sample 0 \
  --conf spark.kindling.temperature=0 --conf spark.kindling.maxTokens="${SOAK_MAX_TOKENS:-8}" \
  --conf spark.ui.enabled=false --conf spark.task.maxFailures=8 \
  --conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector \
  --conf spark.scheduler.minRegisteredResourcesRatio=1.0 \
  >"$dir/job.out" 2>"$dir/job.err" &
driver=$!

executors() {
  pgrep -P "$driver" -f CoarseGrainedExecutorBackend 2>/dev/null || true
}

# live heap in MB after a full GC (young, survivor and old generations used)
live_heap_mb() {
  jcmd "$1" GC.run >/dev/null 2>&1 || return 0
  jstat -gc "$1" 2>/dev/null | awk 'NR == 2 { printf "%.1f", ($3 + $4 + $6 + $8) / 1024 }'
}

start=$(date +%s)
kills=0
watched=""
last_kill=$start
echo "soak: $rows rows, $partitions partitions, an executor killed every ${kill_every}s; work files in $dir"
while kill -0 "$driver" 2>/dev/null; do
  sleep 5
  now=$(date +%s)
  pids=$(executors)
  if [[ -z "$watched" ]]; then
    # the oldest executor is watched and never killed; the others are
    watched=$(for p in $pids; do echo "$(ps -o etimes= -p "$p") $p"; done | sort -rn | awk 'NR == 1 { print $2 }')
  fi
  if [[ -n "$watched" ]] && kill -0 "$watched" 2>/dev/null; then
    heap=$(live_heap_mb "$watched")
    if [[ -n "$heap" ]]; then
      echo "$((now - start)) $heap" >>"$dir/heap.txt"
      echo "soak: t=$((now - start))s executor $watched live heap $heap MB"
    fi
  fi
  if (( now - last_kill >= kill_every )); then
    victim=$(for p in $pids; do if [[ "$p" != "$watched" ]]; then echo "$p"; fi; done | head -n 1)
    if [[ -n "$victim" ]]; then
      kill -9 "$victim" 2>/dev/null && kills=$((kills + 1)) && echo "soak: t=$((now - start))s killed executor $victim"
    fi
    last_kill=$now
  fi
done
status=0
wait "$driver" || status=$?
cat "$dir/job.out"
if (( status != 0 )); then
  echo "soak: the job failed (exit $status); see $dir/job.err"
  exit 1
fi

python3 - "$input" "$output" "$kills" "$(( $(date +%s) - start ))" "$dir/heap.txt" <<'EOF'
import collections, glob, json, os, sys
expected = [json.loads(line)["id"] for line in open(sys.argv[1])]
seen = collections.Counter()
for part in sorted(glob.glob(sys.argv[2] + "/part-*")):
    for line in open(part):
        seen[json.loads(line)["id"]] += 1
rows_out = sum(seen.values())
duplicated = sum(n - 1 for n in seen.values() if n > 1)
lost = sum(1 for i in expected if i not in seen)
print(f"soak: rows in {len(expected)}, rows out {rows_out}, duplicated {duplicated}, lost {lost}, "
      f"executors killed {sys.argv[3]}, {sys.argv[4]} s")
samples = [line.split() for line in open(sys.argv[5])] if os.path.exists(sys.argv[5]) else []
if samples:
    # the engine's KV cache is allocated when the executor's first task runs: the first samples may precede it
    mb = [float(s[1]) for s in samples]
    print(f"soak: live heap of the executor never killed: first {mb[0]} MB (t={samples[0][0]}s), "
          f"last {mb[-1]} MB (t={samples[-1][0]}s), max {max(mb)} MB, {len(mb)} samples")
sys.exit(1 if duplicated or lost or rows_out != len(expected) else 0)
EOF
