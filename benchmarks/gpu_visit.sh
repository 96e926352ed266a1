#!/usr/bin/env bash
# The first GPU visit of issue 35, in one call (README: "GPU visit").
#
# From a bare machine whose python3 has jax with CUDA, sympy, numpy, scipy and pytest, the
# repository as working directory; installs nothing: neural-tangents 0.6.5 comes unpacked in
# .gpu_peers/ (git-ignored; filled here by benchmarks/gpu_prepare_peers.sh, carried by the call).
# Prints the device, driver and versions, then, each piece under its own `timeout` and all under
# --total seconds:
#   (2) fc_kernels vs neural-tangents' kernel_fn, float32 K(X, X), depth 10, ReLU and erf, NT at
#       default and "highest" matmul precision, float32-vs-float64 errors (benchmarks/peer_kernels.py
#       --parts versus), N = 8192 and 16384 first (the goal's sizes; every N and activation costs ~5
#       compilations), then 32768 if its N^2 extrapolation fits, then 1024, 2048, 4096;
#       the CNN kernels vs neural-tangents (benchmarks/peer_architectures.py --size gpu, if present);
#   (3) the paper-sized NQM sweep (benchmarks/nqm.py --sweep full);
#   (1) python -m verify --device gpu, family by family at full size, lightest first, in what is
#       left of --verify-budget (benchmarks/gpu_verify.py), listing the families that did not run.
# The measurement pieces come first because each is bounded and answers a goal of the issue;
# verify fills the rest and benchmarks/gpu_second_visit.sh continues its list.
#
#   bash benchmarks/gpu_visit.sh [--dry-run] [--total S] [--verify-budget S] [--kernels-limit S]
#                                [--cnn-limit S] [--nqm-limit S]
# --dry-run: the same script at CPU size (JAX_PLATFORMS=cpu, verify --quick, N = 128 and 256, the
# quick NQM sweep, peer_architectures --size quick; --total 360 unless given), so that nothing but
# the device differs. Defaults of the GPU run: --total 540 --verify-budget 420 --kernels-limit 130
# --cnn-limit 45 --nqm-limit 70 (call 1 of 600 s; call 2 of gpu_second_visit.sh fits the rest).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

dry=0 total= verify_budget=420 kernels_limit=130 cnn_limit=45 nqm_limit=70
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) dry=1 ;;
        --total) total=$2; shift ;;
        --verify-budget) verify_budget=$2; shift ;;
        --kernels-limit) kernels_limit=$2; shift ;;
        --cnn-limit) cnn_limit=$2; shift ;;
        --nqm-limit) nqm_limit=$2; shift ;;
        *) echo "gpu_visit.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift
done
[ -z "$total" ] && total=$([ $dry = 1 ] && echo 360 || echo 540)  # the dry run: a few minutes
for v in "$total" "$verify_budget" "$kernels_limit" "$cnn_limit" "$nqm_limit"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "gpu_visit.sh: time limits are whole seconds, got '$v'" >&2; exit 2; }
done

source benchmarks/gpu_lib.sh
gpu_setup visit "$total"
if [ $dry = 1 ]; then
    export JAX_PLATFORMS=cpu
    device=cpu size_flag=--quick sizes="128 256" f64max=256 cnn_size=quick nqm_size=quick
else
    device=gpu size_flag= sizes="8192 16384 32768 1024 2048 4096" f64max=4096 cnn_size=gpu nqm_size=full
    export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}
fi
echo "gpu_visit: $([ $dry = 1 ] && echo 'DRY RUN on the CPU' || echo 'GPU run'), total ${total} s, verify budget ${verify_budget} s"
gpu_environment $device

if gpu_peers_ready; then
    # the size loop stops itself when the next N would overrun (limit less 20 s of margin)
    gpu_piece peer_kernels "$kernels_limit" "$PY" benchmarks/peer_kernels.py --peers .gpu_peers \
        --parts versus --sizes $sizes --repeats 5 --time-budget $((kernels_limit - 20)) \
        --f64-check-max $f64max --json "$GPU_RAW/peer-kernels.json" --csv "$GPU_RAW/peer-kernels.csv"
    if [ -f benchmarks/peer_architectures.py ]; then
        gpu_piece peer_architectures "$cnn_limit" "$PY" benchmarks/peer_architectures.py --peers .gpu_peers \
            --size $cnn_size --json "$GPU_RAW/peer-architectures.json"
    else
        echo "== peer_architectures: skipped: benchmarks/peer_architectures.py is not in this tree"
        echo "peer_architectures,0,0,absent" >> "$GPU_RAW/pieces.csv"
    fi
else
    echo "== peers: .gpu_peers is missing or does not import: run benchmarks/gpu_prepare_peers.sh here and"
    echo "   name .gpu_peers in the call's carry list; skipping peer_kernels and peer_architectures"
    echo "peer_kernels,0,0,no peers" >> "$GPU_RAW/pieces.csv"
fi

gpu_piece nqm_sweep "$nqm_limit" "$PY" benchmarks/nqm.py --sweep $nqm_size

budget=$(( $(gpu_left) - 40 ))
[ "$budget" -gt "$verify_budget" ] && budget=$verify_budget
if [ "$budget" -ge 20 ]; then
    gpu_piece verify $((budget + 25)) "$PY" benchmarks/gpu_verify.py --out "$GPU_RAW/verify" --device $device \
        --budget "$budget" $size_flag
else
    echo "== verify: not run ($(gpu_left) s left of the total)"
fi

echo
echo "== summary"
cat "$GPU_RAW/pieces.csv"
[ -f "$GPU_RAW/peer-kernels.json" ] && "$PY" -c "import json; [print(l) for l in json.load(open('$GPU_RAW/peer-kernels.json'))['goal']]"
grep -h "^whole check\|^exact-moment" "$GPU_RAW/nqm_sweep.txt" 2>/dev/null
if [ -f "$GPU_RAW/verify/verify-summary.json" ]; then
    left_out=$("$PY" -c "import json; print(' '.join(json.load(open('$GPU_RAW/verify/verify-summary.json'))['did_not_run']))")
    tail -n 30 "$GPU_RAW/verify.txt" | grep -A30 "^gpu_verify: [0-9]* s;"
else
    left_out=$("$PY" benchmarks/gpu_verify.py --list-order 2>/dev/null)
fi
echo "next call: bash benchmarks/gpu_second_visit.sh $([ $dry = 1 ] && echo '--dry-run ')--families ${left_out:-none}"
gpu_finish
