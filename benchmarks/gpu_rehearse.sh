#!/usr/bin/env bash
# Rehearse a device call on this machine: copy what the call would send (tracked and untracked,
# not ignored files, plus the carried paths) to a scratch folder, run the command there with $OUT
# set to an empty folder and JAX_PLATFORMS=cpu, then check what $OUT holds against what a call
# brings back (at most 8 files, 16 MiB each, 64 MiB together, 2 folders down, names of letters,
# digits, '.', '_', '-') and the sizes against the limits (command <= 2000 characters, tree with
# carried paths <= 64 MiB).
#   PYTHON=/work/venv/bin/python bash benchmarks/gpu_rehearse.sh ["COMMAND"] [CARRIED_PATH ...]
# default: "PYTHONPATH=. bash benchmarks/gpu_visit.sh --dry-run" carrying .gpu_peers
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
command=${1:-PYTHONPATH=. bash benchmarks/gpu_visit.sh --dry-run}
shift || true
carry=("$@")
[ ${#carry[@]} -eq 0 ] && carry=(.gpu_peers)
scratch=${REHEARSE_DIR:-/tmp/gpu-rehearse}
rm -rf "$scratch" && mkdir -p "$scratch/repo" "$scratch/out"

echo "command: ${#command} characters (limit 2000): $command"
[ ${#command} -le 2000 ] || { echo "FAIL: command over 2000 characters"; exit 1; }
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done > "$scratch/files"
tree_bytes=$(du -cb --files0-from="$scratch/files" | tail -1 | cut -f1)
carry_bytes=0
for path in "${carry[@]}"; do
    git check-ignore -q "$path" || echo "note: carried path $path is not git-ignored (it travels anyway)"
    [ -e "$path" ] || { echo "FAIL: carried path $path is missing here"; exit 1; }
    carry_bytes=$((carry_bytes + $(du -sb "$path" | cut -f1)))
done
echo "travels: tree $((tree_bytes / 1024)) KiB + carried $((carry_bytes / 1024)) KiB of 65536 KiB"
[ $((tree_bytes + carry_bytes)) -lt $((64 * 1024 * 1024)) ] || { echo "FAIL: over 64 MiB"; exit 1; }
xargs -0 cp --parents -t "$scratch/repo" < "$scratch/files"
for path in "${carry[@]}"; do cp -r --parents "$path" "$scratch/repo/"; done

start=$SECONDS
(cd "$scratch/repo" && OUT="$scratch/out" JAX_PLATFORMS=cpu bash -c "$command")
rc=$?
echo "rehearsal: returncode $rc in $((SECONDS - start)) s"

status=0
files=$(cd "$scratch/out" && find . -type f | sed 's|^\./||')
count=$(printf '%s\n' "$files" | grep -c . || true)
echo "\$OUT holds $count files:"
while IFS= read -r f; do
    [ -z "$f" ] && continue
    size=$(stat -c %s "$scratch/out/$f")
    echo "  $f  $((size / 1024)) KiB"
    [ "$size" -le $((16 * 1024 * 1024)) ] || { echo "  FAIL: $f over 16 MiB"; status=1; }
    [[ $f =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,2}$ ]] || { echo "  FAIL: $f: odd name or over 2 folders down"; status=1; }
done <<< "$files"
[ "$count" -le 8 ] || { echo "FAIL: more than 8 files"; status=1; }
total=$(du -sb "$scratch/out" | cut -f1)
[ "$total" -le $((64 * 1024 * 1024)) ] || { echo "FAIL: over 64 MiB together"; status=1; }
echo "rehearsal checks: $([ $status = 0 ] && echo 'all within the limits' || echo FAILED)"
exit $((rc != 0 ? rc : status))
