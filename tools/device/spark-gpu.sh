#!/usr/bin/env bash
# Runs on the GPU host, from the repository root, with the parts of tools/device/pack-spark.sh under
# .device/spark/part1, part2, ... (copied with scp, or one per transfer where a transfer is limited to 64 MB):
#   bash tools/device/spark-gpu.sh check                 which parts have arrived, intact (exit 3 if any is not)
#   bash tools/device/spark-gpu.sh run COMMAND [ARGS...] stage the bundle, then run COMMAND with its JRE, e.g.
#       bash tools/device/spark-gpu.sh run bash bin/kindling spark --model M --input IN --output OUT --master 'local[4]'
#       bash tools/device/spark-gpu.sh run bash benchmarks/spark_gpu.sh --checkpoint /tmp/llama-1b
# Staging checks every part against the MANIFEST that each carries (size and sha256, then the whole archive's
# sha256), unpacks the archive once to KINDLING_SPARK_HOME (default /tmp/kindling-spark), and links the build
# directories bin/kindling runs from (examples/, engine/, kernels/ and cli/target) to it, so that `bin/kindling spark`
# and `bin/kindling generate` run as on a development machine, on the bundle's JRE (JAVA_HOME).
set -euo pipefail

root="$(pwd)"
parts_dir=.device/spark
home="${KINDLING_SPARK_HOME:-/tmp/kindling-spark}"

fail() {
  echo "spark-gpu: $*" >&2
  exit "${code:-2}"
}

# check: prints the state of every part the manifests name; returns non-zero unless all arrived intact
check() {
  local manifests=("$parts_dir"/part*/MANIFEST)
  [[ -e "${manifests[0]}" ]] || code=3 fail "no part of the Spark bundle is here (expected $root/$parts_dir/part1," \
    "part2, ... from tools/device/pack-spark.sh): send the folders .device/spark/partN there"
  manifest="${manifests[0]}"
  local other
  for other in "${manifests[@]}"; do
    cmp -s "$manifest" "$other" || code=3 fail "$other and $manifest come from different packs" \
      "($(head -1 "$other") vs $(head -1 "$manifest")): send all parts of one tools/device/pack-spark.sh run"
  done
  local count problems=0 i sum bytes file
  count="$(awk '$1 == "parts" {print $2}' "$manifest")"
  echo "spark-gpu: bundle of $(awk '$1 == "commit" {print $2}' "$manifest"), $count parts" >&2
  for i in $(seq 1 "$count"); do
    read -r sum bytes < <(awk -v i="$i" '$1 == "part" && $2 == i {print $3, $4}' "$manifest")
    file="$parts_dir/part$i/kindling-spark.tar.xz.$i"
    if [[ ! -f "$file" ]]; then
      echo "  part $i of $count: MISSING ($bytes bytes): send .device/spark/part$i to $root/$parts_dir/part$i/" >&2
      problems=$((problems + 1))
    elif [[ "$(stat -c %s "$file")" != "$bytes" ]] || [[ "$(sha256sum "$file" | cut -d' ' -f1)" != "$sum" ]]; then
      echo "  part $i of $count: DAMAGED ($(stat -c %s "$file") bytes, expected $bytes with sha256 $sum): send it again" >&2
      problems=$((problems + 1))
    else
      echo "  part $i of $count: ok ($bytes bytes)" >&2
    fi
  done
  (( problems == 0 ))
}

# unpack: the archive to $home, once per archive
unpack() {
  local sum count
  sum="$(awk '$1 == "archive" {print $2}' "$manifest")"
  count="$(awk '$1 == "parts" {print $2}' "$manifest")"
  if [[ "$(cat "$home/ARCHIVE" 2>/dev/null)" == "$sum" ]]; then
    return
  fi
  local pieces=()
  for i in $(seq 1 "$count"); do
    pieces+=("$parts_dir/part$i/kindling-spark.tar.xz.$i")
  done
  [[ "$(cat "${pieces[@]}" | sha256sum | cut -d' ' -f1)" == "$sum" ]] \
    || fail "the parts join to an archive whose sha256 is not the manifest's $sum: pack and send them again"
  local fresh="$home.unpacking"
  rm -rf "$fresh" "$home"
  mkdir -p "$fresh"
  cat "${pieces[@]}" | xz -d | tar -C "$fresh" -xf -
  mv "$fresh/kindling-spark" "$home"
  rmdir "$fresh"
  # the engine and kernels run from class directories (bin/kindling generate), unpacked from their jars; the
  # cli's libraries are links to the jars the bundle has
  for module in engine kernels; do
    python3 -m zipfile -e "$(ls "$home"/spark-lib/kindling-"$module"-*.jar)" "$home/$module-classes"
  done
  mkdir -p "$home/cli-classpath"
  while read -r jar; do
    ln -sf "$home/$jar" "$home/cli-classpath/"
  done < "$home/cli-classpath.txt"
  echo "$sum" > "$home/ARCHIVE"
}

# link TARGET PATH: PATH (a build directory of this checkout) becomes a link to TARGET; a real build is left alone
link() {
  if [[ -e "$2" && ! -L "$2" ]]; then
    fail "$2 is a build of this checkout, not a link to the bundle: run bin/kindling as it is, or remove the" \
      "target directories to use the bundle"
  fi
  mkdir -p "$(dirname "$2")"
  ln -sfn "$1" "$2"
}

stage() {
  check || code=3 fail "the bundle is incomplete: nothing run"
  unpack
  link "$home/examples-classes" examples/target/classes
  link "$home/spark-lib" examples/target/spark-lib
  link "$home/engine-classes" engine/target/classes
  link "$home/kernels-classes" kernels/target/classes
  link "$home/cli-classes" cli/target/classes
  link "$home/cli-classpath" cli/target/lib
  export JAVA_HOME="$home/jre"
  export PATH="$JAVA_HOME/bin:$PATH"
  echo "spark-gpu: staged at $home (commit $(cat "$home/COMMIT")), JAVA_HOME=$JAVA_HOME" >&2
}

case "${1:-}" in
  check) check ;;
  run)
    shift
    (( $# > 0 )) || fail "run needs a command, e.g. run bin/kindling spark --help"
    stage
    exec "$@"
    ;;
  *) fail "usage: spark-gpu.sh check | run COMMAND [ARGS...]" ;;
esac
