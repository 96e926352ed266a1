#!/usr/bin/env bash
# Fill .gpu_peers/ (git-ignored through .git/info/exclude) with neural-tangents 0.6.5, frozendict
# and nt_shim.py, unpacked, so that a GPU call that names .gpu_peers in its `carry` list has the
# peer without a network: benchmarks/peer_kernels.py --peers .gpu_peers (and
# peer_architectures.py, whose default it is) put the folder on sys.path and import nt_shim first.
# Pure-Python packages: the same folder works under the device's Python 3.12 (no .pyc written).
#   usage: bash benchmarks/gpu_prepare_peers.sh [PEERS_DIR]   (default ../shared/peers)
#   PYTHON=/work/venv/bin/python to choose the interpreter whose pip unpacks the wheels.
set -euo pipefail
src=${1:-../shared/peers}
dest=.gpu_peers
py=${PYTHON:-python3}
[ -f "$src/nt_shim.py" ] || { echo "gpu_prepare_peers: $src has no nt_shim.py (pass the peers folder)" >&2; exit 2; }
git check-ignore -q "$dest/" || { echo "gpu_prepare_peers: $dest/ is not git-ignored; add it to .git/info/exclude" >&2; exit 2; }
rm -rf "$dest"
"$py" -m pip install -q --no-deps --no-index --no-compile --no-warn-script-location --target "$dest" "$src"/*.whl
cp "$src/nt_shim.py" "$dest/"
rm -rf "$dest/tests" "$dest/examples"  # the wheel's top-level tests/ would shadow the repository's
PYTHONPATH="$dest" "$py" -c "import nt_shim, neural_tangents, frozendict; print('peers ready:', neural_tangents.__version__, 'frozendict', frozendict.__version__)"
# the device's copy of the tree has no .git: say which commit the visit measures
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)') $(date -u +%FT%TZ)" > "$dest/commit.txt"
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dest"
