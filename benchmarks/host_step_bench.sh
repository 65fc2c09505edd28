#!/usr/bin/env bash
# The engine's host cost per decode step without a model (io.kindling.core.HostStepBench, an engine test class):
#   bash benchmarks/host_step_bench.sh [--churn] [SEQS [PROMPT_TOKENS [STEPS]]]      (default 1024 600 400)
# --churn: varied output lengths over a backlog, so sequences finish and are admitted every step.
# Extra JVM options (e.g. -Dkindling.asyncScheduling=false) go in KINDLING_BENCH_OPTS. Runs from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -o -q -pl engine -am test-compile
cp_file=engine/target/bench.classpath
mvn -B -o -q -pl engine dependency:build-classpath -Dmdep.outputFile="$(pwd)/$cp_file" >/dev/null
# shellcheck disable=SC2086  # KINDLING_BENCH_OPTS is a list of options
java -Xmx4g ${KINDLING_BENCH_OPTS:-} -cp "engine/target/test-classes:engine/target/classes:$(cat "$cp_file")" \
  io.kindling.core.HostStepBench "$@"
