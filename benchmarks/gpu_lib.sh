# Shared by benchmarks/gpu_visit.sh and benchmarks/gpu_second_visit.sh (sourced, not run).
# Sets up the results folder, the log, the clock and the per-piece time limits.
#
# Results: with $OUT set (the device call), the pieces write into /tmp/gpu-visit/raw and after every
# piece the whole folder is packed into $OUT/<name>.tar.gz (a call brings back at most 8 files, 2
# folders deep), next to $OUT/<name>.log (everything printed) and $OUT/<name>-summary.txt. Without
# $OUT, the same files go to gpu-results/ (raw/ unpacked beside the tarball).

gpu_setup() {  # gpu_setup NAME TOTAL_SECONDS
    GPU_NAME=$1
    GPU_TOTAL=$2
    GPU_START=$SECONDS
    PY=${PYTHON:-python3}
    export PYTHONPATH=${PYTHONPATH:-.}
    export PYTHONUNBUFFERED=1
    if [ -n "${OUT:-}" ]; then
        GPU_RESULTS=$OUT
        GPU_RAW=/tmp/gpu-visit-$GPU_NAME/raw
    else
        GPU_RESULTS=gpu-results
        GPU_RAW=$GPU_RESULTS/raw-$GPU_NAME
    fi
    rm -rf "$GPU_RAW"
    mkdir -p "$GPU_RAW" "$GPU_RESULTS"
    GPU_LOG=$GPU_RESULTS/$GPU_NAME.log
    : > "$GPU_LOG"
    exec > >(tee -a "$GPU_LOG") 2>&1
    GPU_TEE=$!
    echo "pieces: name,limit_s,seconds,returncode (124: cut at its limit)" > "$GPU_RAW/pieces.csv"
}

gpu_left() {  # seconds left of the total
    echo $((GPU_TOTAL - (SECONDS - GPU_START)))
}

gpu_pack() {  # one tarball; split into 15 MiB parts when larger (a call returns files <= 16 MiB)
    local tarball=$GPU_RESULTS/$GPU_NAME.tar.gz
    rm -f "$tarball" "$tarball".part-*
    tar czf "$tarball" -C "$(dirname "$GPU_RAW")" "$(basename "$GPU_RAW")" 2>/dev/null || return 0
    if [ "$(stat -c %s "$tarball")" -gt $((15 * 1024 * 1024)) ]; then
        split -b 15M "$tarball" "$tarball.part-" && rm -f "$tarball"  # rejoin: cat NAME.tar.gz.part-* > NAME.tar.gz
    fi
}

# gpu_piece NAME LIMIT_SECONDS COMMAND...: run under `timeout` (never past the total, less 20 s
# for packing), output to the log and to raw/NAME.txt, one line in raw/pieces.csv, then pack.
gpu_piece() {
    local name=$1 limit=$2 left rc begin
    shift 2
    left=$(( $(gpu_left) - 20 ))
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt 10 ]; then
        echo "== $name: not run ($(gpu_left) s left of the total $GPU_TOTAL s)"
        echo "$name,0,0,not run" >> "$GPU_RAW/pieces.csv"
        return 0
    fi
    echo "== $name (limit ${limit} s, $(gpu_left) s left): $*"
    begin=$SECONDS
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$GPU_RAW/$name.txt"
    rc=${PIPESTATUS[0]}
    echo "== $name: returncode $rc in $((SECONDS - begin)) s$([ "$rc" = 124 ] && echo ' (cut at its limit)')"
    echo "$name,$limit,$((SECONDS - begin)),$rc" >> "$GPU_RAW/pieces.csv"
    gpu_pack
    return 0
}

# Device, driver and versions, to the log and raw/environment.txt; exit 3 when the run wants a
# GPU and JAX sees none (nothing else would be worth the visit's time).
gpu_environment() {  # gpu_environment cpu|gpu
    local want=$1
    {
        echo "date: $(date -u +%FT%TZ)"
        echo "host: $(uname -srm); cpus $(nproc)"
        if git rev-parse --short HEAD > /dev/null 2>&1; then
            echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
        else  # the device gets a copy of the tree without .git: gpu_prepare_peers.sh noted the commit
            echo "commit: no git here; .gpu_peers was prepared at $(cat .gpu_peers/commit.txt 2>/dev/null || echo '(unknown)')"
        fi
        if command -v nvidia-smi > /dev/null; then
            nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
        else
            echo "nvidia-smi: not found"
        fi
        "$PY" - <<'PYEOF'
import importlib, platform, sys
print("python", platform.python_version(), sys.executable)
for name in ("jax", "jaxlib", "numpy", "scipy", "sympy", "mpmath", "pytest"):
    try:
        print(f"{name} {importlib.import_module(name).__version__}")
    except Exception as error:  # noqa: BLE001
        print(f"{name}: missing ({error})")
import jax
print("jax backend", jax.default_backend(), "devices", jax.devices())
PYEOF
    } 2>&1 | tee "$GPU_RAW/environment.txt"
    if [ "$want" = gpu ] && ! grep -q "^jax backend gpu" "$GPU_RAW/environment.txt"; then
        echo "no GPU visible to JAX: stopping before the visit spends its time (see environment above)"
        gpu_pack
        exit 3
    fi
}

# The peer (neural-tangents 0.6.5 + frozendict + nt_shim) from .gpu_peers, carried with the call.
gpu_peers_ready() {  # prints why not (the import's last lines) when the peer does not load
    local why
    [ -f .gpu_peers/nt_shim.py ] || { echo "peers: .gpu_peers/nt_shim.py is missing"; return 1; }
    why=$("$PY" -c "import sys; sys.path.insert(0, '.gpu_peers'); import nt_shim, neural_tangents; print('peers: neural-tangents', neural_tangents.__version__)" 2>&1)
    local rc=$?
    echo "$why" | tail -n 5
    return $rc
}

gpu_finish() {  # pack, and let the log's tee drain before the call returns
    gpu_pack
    echo "== $GPU_NAME: done in $((SECONDS - GPU_START)) s; results in $GPU_RESULTS:"
    ls -l "$GPU_RESULTS" | tail -n +2
    if [ -n "${OUT:-}" ] && [ "$(find "$OUT" -type f | wc -l)" -gt 8 ]; then
        echo "WARNING: more than 8 files under \$OUT: a call brings back 8 at most"
    fi
    exec >&- 2>&-
    wait "$GPU_TEE" 2>/dev/null
}
