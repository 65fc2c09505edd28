#!/usr/bin/env bash
# Packs a baseline for tools/device/gpu.sh's `ab` action: the kernels jar of another commit, as the entries that
# differ from this tree's (fatbins and classes), so that a GPU run times both in the same call. A whole kernels jar
# would not fit beside the repository and the bundle in one transfer; the entries a change touches are a few
# hundred KB.
#   tools/device/pack.sh && tools/device/baseline.sh REV      (REV: a commit, branch or tag; e.g. main, HEAD~1)
# Builds REV's kernels module in a temporary worktree (offline, tests skipped; the kernels need nvcc), then writes
# .device/baseline.zip: every entry of REV's jar that this tree's jar (the one pack.sh built) lacks or holds
# different bytes of (a fatbin: whose sources differ), and BASELINE-REMOVES, the entries only this tree's jar has.
# Runs on the development machine, from anywhere in the repository.
set -euo pipefail

if (( $# != 1 )); then
  echo "usage: tools/device/baseline.sh REV   (after tools/device/pack.sh)" >&2
  exit 2
fi
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
# shellcheck source=tools/device/common.sh
source tools/device/common.sh
commit="$(git rev-parse --verify "$1^{commit}")"
current="$(ls kernels/target/kindling-kernels-*.jar 2>/dev/null | grep -v -- '-tests\.jar$' | head -1 || true)"
if [[ -z "$current" ]]; then
  echo "baseline: no kernels/target/kindling-kernels-*.jar here: run tools/device/pack.sh first" >&2
  exit 1
fi

tree="$(mktemp -d)/baseline"
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$(dirname "$tree")"' EXIT
git worktree add --detach "$tree" "$commit" >/dev/null
echo "baseline: building the kernels of $1 ($commit)" >&2
(cd "$tree" && build baseline -DskipTests -pl kernels -am)
base="$(ls "$tree"/kernels/target/kindling-kernels-*.jar | grep -v -- '-tests\.jar$' | head -1)"

mkdir -p .device
# nvcc's output depends on the checkout's path (one rms_norm.cu built in two directories differs), so the fatbins
# are compared by their sources (the .cu and every header it includes, this tree against REV), every other entry by
# its bytes
changed_cuda="$(git diff --name-only "$commit" -- kernels/src/main/cuda | xargs -r -n1 basename)"
python3 - "$base" "$current" .device/baseline.zip "$1" "$commit" kernels/src/main/cuda "$changed_cuda" <<'EOF'
import os, re, sys, zipfile
base, current, out, rev, commit, cuda, changed_cuda = sys.argv[1:]
changed_cuda = set(changed_cuda.split())
FATBINS = "io/kindling/cuda/kernels/"

def sources(name, seen):
    """name and every header it includes, transitively, as this tree has them"""
    if name not in seen and os.path.exists(os.path.join(cuda, name)):
        seen.add(name)
        with open(os.path.join(cuda, name)) as f:
            for header in re.findall(r'#include\s+"([^"]+)"', f.read()):
                sources(header, seen)
    return seen

def differs(name, ours, theirs):
    if name not in ours:
        return True
    if name.startswith(FATBINS) and name.endswith(".fatbin"):
        return bool(sources(name[len(FATBINS):-len(".fatbin")] + ".cu", set()) & changed_cuda)
    return ours[name] != theirs

with zipfile.ZipFile(base) as b, zipfile.ZipFile(current) as c:
    ours = {i.filename: c.read(i) for i in c.infolist()}
    theirs = {i.filename: b.read(i) for i in b.infolist()}
changed = sorted(name for name, data in theirs.items() if differs(name, ours, data))
removes = sorted(set(ours) - set(theirs))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name in changed:
        z.writestr(name, theirs[name])
    z.writestr("BASELINE-REMOVES", "".join(name + "\n" for name in removes))
    z.writestr("BASELINE-COMMIT", f"{rev} {commit}\n")
print(f"baseline: {len(changed)} entries differ, {len(removes)} only in this tree:", file=sys.stderr)
for name in changed + removes:
    print("  " + name, file=sys.stderr)
EOF
baseline_bytes=$(stat -c %s .device/baseline.zip)
bundle_bytes=$(stat -c %s .device/bundle.tar.xz)
total=$((baseline_bytes + bundle_bytes + $(git_bytes) + $(git_bytes --others --exclude-standard)))
echo "baseline: .device/baseline.zip $(mb "$baseline_bytes"); with the bundle and the repository $(mb "$total")" \
  "of at most 62 MB" >&2
if (( total > 62000000 )); then
  echo "baseline: too large for one device call beside the bundle: compare against a nearer commit" >&2
  exit 1
fi
