#!/usr/bin/env bash
# One prepared device check, at most ~8 minutes on a machine with one GPU:
#   1. the `gpu` tests (CPU/GPU parity of MI, one system and many groups);
#   2. FMMI over every triplet of one 94-region HCP subject (groups/s, peak GPU memory);
#   3. if time remains, 100,000 triplets of a 200-region (synthetic, timing only) subject.
# Usage, from the project root:
#   bash benchmarks/gpu_check.sh                               # on the GPU machine
#   bash benchmarks/gpu_check.sh --device cpu --regions 20     # the same steps on the CPU, small
# Extra FMMI options go after --, e.g. `-- --option max_steps=50`.
set -euo pipefail
cd "$(dirname "$0")/.."
device=cuda regions=94 budget=480 large=200 threads=4
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device=$2; shift 2 ;;
        --regions) regions=$2; shift 2 ;;
        --budget) budget=$2; shift 2 ;;
        --large) large=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
start=$(date +%s)
echo "# gpu_check: $(date -u '+%Y-%m-%d %H:%M UTC'), device=$device, regions=$regions"
python -c "import torch; print('# torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
if [ "$device" != cpu ]; then
    # A failed parity test is reported, and the timings still run.
    python -m pytest -q -m "gpu or not slow" -p no:cacheprovider tests/engine/test_gpu.py tests/engine/test_device.py \
        || echo "# gpu tests: FAILED (see above)"
fi
python benchmarks/fmmi_throughput.py --device "$device" --threads "$threads" --regions "$regions" --sizes 3 --all "$@"
left=$(( budget - ($(date +%s) - start) ))
if [ "$device" != cpu ] && [ "$left" -gt 120 ]; then
    timeout "$left" python benchmarks/fmmi_throughput.py --device "$device" --threads "$threads" \
        --regions "$large" --sizes 3 --groups 100000 "$@" || echo "# ${large} regions: stopped after ${left} s"
fi
echo "# gpu_check done in $(( $(date +%s) - start )) s"
