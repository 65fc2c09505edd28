# shellcheck shell=bash
# Pieces shared by the device packers (pack.sh, pack-spark.sh); sourced, never run. They run on the development
# machine, which has the JDK, python3 and binutils' strip.

# build TOOL MAVEN_ARGS...: `mvn package` with those arguments, offline and quiet; fails naming TOOL when the kernels
# were built without nvcc, since then nothing would run on a GPU.
build() {
  local tool="$1"
  shift
  mvn -q -o -B -Dstyle.color=never package "$@" >&2
  local unavailable=kernels/target/classes/io/kindling/cuda/kernels/UNAVAILABLE
  if [[ -e "$unavailable" ]]; then
    echo "$tool: the kernels were built without nvcc ($(cat "$unavailable")): nothing to run on a GPU" >&2
    exit 1
  fi
}

# jre MODULES DIR: a jlink runtime of those modules (comma-separated) in DIR, uncompressed: xz packs jlink's plain
# modules file to about half of what it leaves of jlink's own zip compression.
jre() {
  jlink --add-modules "$1" --strip-debug --strip-native-debug-symbols=exclude-debuginfo-files \
    --no-header-files --no-man-pages --output "$2"
}

# store SRC DEST [KEEP_REGEX DROP_REGEX]: copies a jar with every entry stored (uncompressed), so that xz compresses
# all class files of a bundle together, and its native libraries stripped of their symbol tables; entries matching
# DROP_REGEX are left out unless they also match KEEP_REGEX (natives of other platforms, unused bindings).
store() {
  python3 - "$@" <<'EOF'
import copy, re, subprocess, sys, tempfile, zipfile
src, dst = sys.argv[1], sys.argv[2]
keep = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None
drop = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for item in zin.infolist():
        if drop and drop.search(item.filename) and not keep.search(item.filename):
            continue
        data = zin.read(item)
        if item.filename.endswith(".so"):
            with tempfile.NamedTemporaryFile(suffix=".so") as lib:
                lib.write(data)
                lib.flush()
                subprocess.run(["strip", "--strip-unneeded", lib.name], check=True)
                with open(lib.name, "rb") as stripped:
                    data = stripped.read()
        stored = copy.copy(item)
        stored.compress_type = zipfile.ZIP_STORED
        zout.writestr(stored, data)
EOF
}

# git_bytes [GIT_LS_FILES_OPTIONS...]: total size of the files git ls-files lists, from the repository root. What
# travels with every device call besides what it carries: `git_bytes` (tracked) + `git_bytes --others
# --exclude-standard` (untracked, not ignored).
git_bytes() {
  git ls-files -z "$@" | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# mb BYTES: "12.3 MB"
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
