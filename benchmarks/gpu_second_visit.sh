#!/usr/bin/env bash
# The second, shorter GPU call of issue 35: what benchmarks/gpu_visit.sh leaves out.
# Run it right after the first call (the machine stays warm ~30 s, so no second start):
#   (2') fc_kernels vs neural-tangents at N = 32768 if the first call skipped it (its log says
#        "skipped N = 32768"; else pass --kernels-limit 0), same columns as the first call's table;
#   (2'') the CNN kernels vs neural-tangents at the larger pooled sizes
#        (benchmarks/peer_architectures.py --size $cnn_size, if present);
#   (1') python -m verify --device gpu for the families the first call did not run (its last line
#        prints this command with them), heaviest last, in what is left of --total.
#
#   bash benchmarks/gpu_second_visit.sh [--dry-run] [--total S] [--families F ...]
#        [--kernels-sizes "32768"] [--kernels-limit S] [--cnn-size NAME] [--cnn-limit S]
# --families none (or no --families): no verify piece; --kernels-limit 0 / --cnn-limit 0 skip a piece.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

dry=0 total=170 kernels_sizes=32768 kernels_limit=90 cnn_size=gpu cnn_limit=50 families=()
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) dry=1 ;;
        --total) total=$2; shift ;;
        --kernels-sizes) kernels_sizes=$2; shift ;;
        --kernels-limit) kernels_limit=$2; shift ;;
        --cnn-size) cnn_size=$2; shift ;;
        --cnn-limit) cnn_limit=$2; shift ;;
        --families) shift; while [ $# -gt 0 ] && [[ $1 != --* ]]; do families+=("$1"); shift; done; continue ;;
        *) echo "gpu_second_visit.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift
done
for v in "$total" "$kernels_limit" "$cnn_limit"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "gpu_second_visit.sh: time limits are whole seconds, got '$v'" >&2; exit 2; }
done
[ "${families[*]:-none}" = none ] && families=()

source benchmarks/gpu_lib.sh
gpu_setup second "$total"
if [ $dry = 1 ]; then
    export JAX_PLATFORMS=cpu
    device=cpu size_flag=--quick kernels_sizes=384 cnn_size=quick
else
    device=gpu size_flag=
    export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}
fi
echo "gpu_second_visit: $([ $dry = 1 ] && echo 'DRY RUN on the CPU' || echo 'GPU run'), total ${total} s, families: ${families[*]:-none}"
gpu_environment $device

if gpu_peers_ready; then
    [ "$kernels_limit" -gt 0 ] && gpu_piece peer_kernels "$kernels_limit" "$PY" benchmarks/peer_kernels.py \
        --peers .gpu_peers --parts versus --sizes $kernels_sizes --repeats 3 --f64-check-max 0 \
        --json "$GPU_RAW/peer-kernels.json" --csv "$GPU_RAW/peer-kernels.csv"
    if [ "$cnn_limit" -gt 0 ] && [ -f benchmarks/peer_architectures.py ]; then
        gpu_piece peer_architectures "$cnn_limit" "$PY" benchmarks/peer_architectures.py --peers .gpu_peers \
            --size "$cnn_size" --json "$GPU_RAW/peer-architectures.json"
    elif [ "$cnn_limit" -gt 0 ]; then
        echo "== peer_architectures: skipped: benchmarks/peer_architectures.py is not in this tree"
    fi
else
    echo "== peers: .gpu_peers is missing or does not import (benchmarks/gpu_prepare_peers.sh; carry .gpu_peers)"
fi

if [ ${#families[@]} -gt 0 ]; then
    budget=$(( $(gpu_left) - 40 ))
    [ "$budget" -lt 20 ] && budget=20  # gpu_piece still caps the piece at the total
    gpu_piece verify $((budget + 25)) "$PY" benchmarks/gpu_verify.py --out "$GPU_RAW/verify" --device $device \
        --budget "$budget" $size_flag "${families[@]}"
fi

echo
echo "== summary"
cat "$GPU_RAW/pieces.csv"
[ -f "$GPU_RAW/peer-kernels.json" ] && "$PY" -c "import json; [print(l) for l in json.load(open('$GPU_RAW/peer-kernels.json'))['goal']]"
[ -f "$GPU_RAW/verify.txt" ] && grep -A30 "^gpu_verify: [0-9]* s;" "$GPU_RAW/verify.txt"
gpu_finish
