#!/usr/bin/env bash
# Packs what a GPU run needs into .device/bundle.tar.xz, for tools/device/gpu.sh on the device machine (which has
# no Java): a jlink JRE, the engine, kernels and cli jars with their runtime dependencies, the GPU test classes and the
# JUnit console launcher. Runs on the development machine, from anywhere in the repository.
#
# Size matters: everything that travels with a device call (the tracked repository and the carried .device) must
# stay under 64 MB, so the bundle holds only what a GPU run loads, natives for linux-x86_64 only, and jars stored
# uncompressed, so that xz compresses all class files together. Fails when repository + bundle exceed 62 MB.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
# shellcheck source=tools/device/common.sh
source tools/device/common.sh
limit_mb=62
# What the bundle's jars load: java.base, and java.logging for JCuda; benchmarks/gpu_bench.sh adds the Vector API
# module (the CPU backend's fast kernel), and the GPU tests' host-allocation checks jdk.management (its thread
# allocation counter). Each further module costs: java.sql with java.xml 2 MB packed.
jre_modules=java.base,java.logging,jdk.incubator.vector,jdk.management

echo "pack: building engine, kernels and cli" >&2
# the copied runtime classpaths are rebuilt from scratch: a stale jar left there by an older build would travel
rm -rf cli/target/lib
build pack -DskipTests -pl engine,kernels,cli -am

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/kindling"
mkdir -p "$bundle/lib" "$bundle/test"

echo "pack: jlink JRE ($jre_modules)" >&2
jre "$jre_modules" "$bundle/jre"

echo "pack: jars" >&2
version="$(cd engine/target && ls kindling-engine-*-tests.jar | sed 's/kindling-engine-\(.*\)-tests.jar/\1/')"
store "engine/target/kindling-engine-$version.jar" "$bundle/lib/kindling-engine.jar"
store "kernels/target/kindling-kernels-$version.jar" "$bundle/lib/kindling-kernels.jar"
store "cli/target/kindling-cli-$version.jar" "$bundle/lib/kindling-cli.jar"
# Besides the JDK a GPU run loads jackson (config.json, references, the bench's JSON), picocli and slf4j-api (the
# CLI). The tokenizer stays behind (DJL's natives 3 MB packed, jinjava and its libraries 3 MB, java.desktop for the
# chat templates 6 MB): the GPU tests feed the references' token ids, the bench runs random weights without one.
for jar in cli/target/lib/*.jar; do
  name="$(basename "$jar")"
  case "$name" in
    jackson-databind-*|jackson-core-*|jackson-annotations-*|picocli-*|slf4j-api-*|jcuda-[0-9]*)
      store "$jar" "$bundle/lib/$name" ;;
    jcuda-natives-*) store "$jar" "$bundle/lib/$name" '^lib/libJCudaDriver-' '^lib/' ;;
  esac
done

# Tests: the kernels module's test classes, the engine's io.kindling.testing helpers (their fixtures are read from
# the repository's engine/src/test/resources, which travels anyway) and the JUnit console launcher.
cp -r kernels/target/test-classes "$bundle/test/kernels"
mkdir -p "$bundle/test/engine/io/kindling"
cp -r engine/target/test-classes/io/kindling/testing "$bundle/test/engine/io/kindling/"
# the console launcher of the JUnit platform that goes with the build's Jupiter 5.x.y: platform 1.x.y
platform_version="$(sed -n 's:.*<junit.version>5\.\(.*\)</junit.version>.*:1.\1:p' pom.xml)"
console=~/.m2/repository/org/junit/platform/junit-platform-console-standalone/$platform_version
console="$console/junit-platform-console-standalone-$platform_version.jar"
if [[ ! -e "$console" ]]; then
  echo "pack: fetch the JUnit console launcher once:" >&2
  echo "  mvn dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$platform_version" >&2
  exit 1
fi
store "$console" "$bundle/test/junit-console.jar"
git rev-parse HEAD > "$bundle/COMMIT"

mkdir -p .device
tar -C "$stage" -cf - kindling | xz -T2 -9 > .device/bundle.tar.xz.tmp
mv .device/bundle.tar.xz.tmp .device/bundle.tar.xz

bundle_bytes=$(stat -c %s .device/bundle.tar.xz)
# what else travels: the tracked files, and untracked ones that git does not ignore
repo_bytes=$(git_bytes)
untracked_bytes=$(git_bytes --others --exclude-standard)
total=$((bundle_bytes + repo_bytes + untracked_bytes))
echo "pack: .device/bundle.tar.xz $(mb "$bundle_bytes"); repository $(mb "$repo_bytes") tracked" \
  "+ $(mb "$untracked_bytes") untracked; together $(mb "$total") of at most $limit_mb MB"
if (( total > limit_mb * 1000000 )); then
  echo "pack: too large for a device call: trim the bundle or the repository" >&2
  exit 1
fi
