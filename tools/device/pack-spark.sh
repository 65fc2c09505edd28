#!/usr/bin/env bash
# Packs what a Spark job with Kindling needs on a GPU host that has no Java, for tools/device/spark-gpu.sh there:
# a jlink JRE with the modules Spark loads, Spark's jars as `bin/kindling spark` runs them on local[N] and
# local-cluster (examples/target/spark-lib: the connector, engine, kernels, JCuda and Spark), less what such a job
# never loads, and what `bin/kindling generate` needs besides. Runs on the development machine (JDK, Maven, nvcc),
# from anywhere in the repository:
#   tools/device/pack-spark.sh
#
# Where each transfer to the GPU host may carry at most 64 MB with the checkout (its tracked and untracked files),
# this bundle is larger than what the repository leaves, so the archive is cut into parts: .device/spark/part1,
# part2, ..., one per transfer. Each part folder holds its piece and the MANIFEST (every piece's size and sha256,
# the whole archive's sha256, the commit), so spark-gpu.sh can tell exactly which pieces are missing or damaged.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
# shellcheck source=tools/device/common.sh
source tools/device/common.sh
limit_mb=62
# What a Spark job loads from the JDK (class-load logs of local[2] and local-cluster jobs): java.desktop for
# log4j-core's java.beans listeners, java.security.jgss and jdk.security.auth for Hadoop's login, java.management
# and jdk.management for Spark's metrics, jdk.net for Netty, the Vector API for the CPU backend.
jre_modules=java.base,java.desktop,java.logging,java.management,java.naming,java.security.jgss,java.sql,java.xml
jre_modules+=,jdk.incubator.vector,jdk.management,jdk.net,jdk.security.auth,jdk.unsupported
# Native libraries inside multi-platform jars; only Linux x86-64's travel (the GPU host's platform).
natives='\.(so|dll|dylib|jnilib|a)$'
this_platform='(?i)linux[-/](x86[-_]64|amd64)/'

echo "pack-spark: building the examples module and what it depends on" >&2
# the copied runtime classpaths are rebuilt from scratch: a stale jar left there by an older build would travel
rm -rf examples/target/spark-lib cli/target/lib
build pack-spark -Dmaven.test.skip=true -pl examples,cli -am

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/kindling-spark"
mkdir -p "$bundle/spark-lib" "$bundle/cli-lib"

# Hadoop's two client jars are 130 MB of classes, of which a Spark job on local files loads a few packages: trace
# which, with class-load logs of two jobs on the bundled model (JSON on local[2]; JSON in, Parquet out and back on
# local-cluster, driver and executor), and keep those packages and every resource. The jobs are the pack's smoke
# test too: the pack fails when they do.
echo "pack-spark: tracing the classes that Spark jobs load (local[2], local-cluster[1,2,1024])" >&2
trace="$stage/trace"
mkdir -p "$trace"
head -n 16 examples/data/words.jsonl > "$trace/words.jsonl"
job=(--model examples/models/kindling-define-6m --sample 0 --conf spark.ui.enabled=false
  --conf spark.kindling.maxTokens=2 --conf spark.kindling.kvCacheMemory=64m)
loads() { echo "-Xlog:class+load=info:file=$trace/$1.log"; }
KINDLING_JAVA_OPTS="$(loads local)" bin/kindling spark "${job[@]}" --master 'local[2]' \
  --input "$trace/words.jsonl" --output "$trace/local-out" >&2
printf '%s\n' "CREATE TEMPORARY VIEW words USING json OPTIONS (path '$trace/words.jsonl');" \
  "INSERT OVERWRITE DIRECTORY '$trace/cluster-out' USING parquet SELECT id, llm_generate(prompt) AS g FROM words;" \
  "SELECT count(*) FROM parquet.\`$trace/cluster-out\`;" > "$trace/parquet.sql"
# local-cluster's worker starts executors only under Spark's test switches, from the driver's class path
SPARK_TESTING=1 SPARK_SCALA_VERSION=2.13 KINDLING_JAVA_OPTS="-Dspark.testing=1 -Dspark.test.home=$trace $(loads driver)" \
  bin/kindling spark "${job[@]}" --master 'local-cluster[1,2,1024]' --sql "$trace/parquet.sql" \
  --conf "spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector $(loads executor-%p)" >&2
# "[0.1s][info][class,load] org.apache.hadoop.fs.Path source: file:/.../hadoop-client-api-3.4.2.jar" -> org/apache/hadoop/fs
hadoop_packages="$(cat "$trace"/*.log \
  | sed -n 's#^.*\] \([^ ]*\)\.[^. ]* source: file:.*/hadoop-client-[a-z]*-[0-9.]*\.jar$#\1#p' \
  | tr . / | sort -u | paste -sd'|')"
if [[ -z "$hadoop_packages" ]]; then
  echo "pack-spark: the traced jobs loaded no Hadoop class" >&2
  exit 1
fi
used_hadoop_classes="^($hadoop_packages)/[^/]+\.class$"

echo "pack-spark: jlink JRE ($jre_modules)" >&2
jre "$jre_modules" "$bundle/jre"
find "$bundle/jre" -name '*.so' -exec strip --strip-unneeded {} + # jlink leaves libjvm.so's symbol table

echo "pack-spark: jars" >&2
for jar in examples/target/spark-lib/*.jar; do
  name="$(basename "$jar")"
  case "$name" in
    # RocksDB and LevelDB (status store, shuffle service), ORC and Hive, ZooKeeper and Curator (master recovery),
    # Py4J and Pickle (PySpark), Netty's QUIC, HTTP/3, OpenSSL, io_uring, kqueue and macOS resolver transports
    rocksdbjni-*|leveldbjni-*|orc-*|hive-storage-api-*|zookeeper-*|curator-*|py4j-*|pickle-*) ;;
    tink-*|jts-core-*) ;; # RPC encryption, geospatial functions
    netty-codec-*quic-*|netty-codec-http3-*|netty-tcnative-*|netty-*io_uring-*|netty-*kqueue-*|netty-*macos-*) ;;
    netty-transport-rxtx-*|netty-transport-sctp-*|netty-transport-udt-*) ;;
    hadoop-client-api-*|hadoop-client-runtime-*) store "$jar" "$bundle/spark-lib/$name" "$used_hadoop_classes" '\.class$' ;;
    jcuda-natives-*) store "$jar" "$bundle/spark-lib/$name" '^lib/libJCudaDriver-' '^lib/' ;; # the driver API only
    *-linux-x86_64.jar) store "$jar" "$bundle/spark-lib/$name" ;;
    *-linux-*.jar|*-osx-*.jar|*-windows-*.jar) ;; # other platforms' natives
    *) store "$jar" "$bundle/spark-lib/$name" "$this_platform" "$natives" ;;
  esac
done
# bin/kindling generate runs the cli, engine and kernels from their build directories: the engine's and kernels'
# classes come from the jars above, the cli's travel as classes, and the cli's runtime class path is listed here,
# each jar as spark-lib's copy of that artifact (the versions the Spark path runs the engine with), or from cli-lib
# where spark-lib has none (picocli).
for jar in cli/target/lib/*.jar; do
  name="$(basename "$jar")"
  same=("$bundle/spark-lib/${name%%-[0-9]*}"-[0-9]*.jar)
  if [[ -e "${same[0]}" ]]; then
    echo "spark-lib/$(basename "${same[0]}")"
  else
    store "$jar" "$bundle/cli-lib/$name" "$this_platform" "$natives"
    echo "cli-lib/$name"
  fi
done > "$bundle/cli-classpath.txt"
cp -r examples/target/classes "$bundle/examples-classes"
cp -r cli/target/classes "$bundle/cli-classes"
git rev-parse HEAD > "$bundle/COMMIT"

echo "pack-spark: xz" >&2
archive="$stage/kindling-spark.tar.xz"
tar -C "$stage" -cf - kindling-spark | xz -T2 -9 > "$archive"
archive_bytes=$(stat -c %s "$archive")

# Each part travels with the repository, so it gets what the repository leaves of the limit.
repo_bytes=$(( $(git_bytes) + $(git_bytes --others --exclude-standard) ))
room=$(( limit_mb * 1000000 - repo_bytes ))
if (( room < 2000000 )); then
  echo "pack-spark: the repository alone ($(mb "$repo_bytes")) leaves no room under $limit_mb MB" >&2
  exit 1
fi
count=$(( (archive_bytes + room - 1) / room ))
piece=$(( (archive_bytes + count - 1) / count ))
rm -rf .device/spark
mkdir -p .device/spark
split -b "$piece" -d -a 1 --numeric-suffixes=1 "$archive" "$stage/kindling-spark.tar.xz."
{
  echo "commit $(git rev-parse HEAD)"
  echo "archive $(sha256sum "$archive" | cut -d' ' -f1) $archive_bytes"
  echo "parts $count"
  for i in $(seq 1 "$count"); do
    echo "part $i $(sha256sum "$stage/kindling-spark.tar.xz.$i" | cut -d' ' -f1) $(stat -c %s "$stage/kindling-spark.tar.xz.$i")"
  done
} > "$stage/MANIFEST"
for i in $(seq 1 "$count"); do
  mkdir -p ".device/spark/part$i"
  mv "$stage/kindling-spark.tar.xz.$i" ".device/spark/part$i/"
  cp "$stage/MANIFEST" ".device/spark/part$i/MANIFEST"
done

echo "pack-spark: archive $(mb "$archive_bytes") in $count parts; repository $(mb "$repo_bytes") travels with each:"
for i in $(seq 1 "$count"); do
  bytes=$(du -cb ".device/spark/part$i" | tail -1 | cut -f1)
  echo "  .device/spark/part$i  $(mb "$bytes")  (with the repository $(mb $((bytes + repo_bytes))) of at most $limit_mb MB)"
done
