#!/bin/sh
# Issue 27's GPU check as one prepared command: each best recipe once (seed 0) on the GPU through bench_best.py,
# then bench_time_to_accuracy.py on the GPU; everything it measures lands in $OUT (the device tool's folder).
#
# Here, first (the data travels gzip'd in an ignored folder, about 41 MB of the tool's 64 MiB):
#     sh benchmarks/gpu_recipes.sh --pack ../shared/data
# Then one device call from the repository root:
#     run(command="sh benchmarks/gpu_recipes.sh", carry=[".gpudata"], timeout_s=600)
# On a GPU the recipes take seconds to a minute or two each; the script stops starting new recipes after
# MLPLAB_GPU_BUDGET seconds (default 420) so that the timing benchmark and the results always come back.
# A smoke test of the plumbing on this machine's CPU:
#     MLPLAB_GPU_DEVICE=cpu MLPLAB_GPU_RECIPES=ae MLPLAB_GPU_ALSO=epochs=1 MLPLAB_GPU_TTA=--quick \
#         OUT=/tmp/gpu_out sh benchmarks/gpu_recipes.sh
set -eu

if [ "${1:-}" = "--pack" ]; then
    src=${2:?give the data folder, e.g. ../shared/data}
    grep -qx '/.gpudata/' .git/info/exclude 2>/dev/null || echo /.gpudata/ >> .git/info/exclude
    for d in MNIST FashionMNIST; do
        mkdir -p ".gpudata/$d/raw"
        for f in "$src/$d/raw/"*-ubyte; do gzip -c "$f" > ".gpudata/$d/raw/$(basename "$f").gz"; done
    done
    du -sh .gpudata
    exit 0
fi

OUT=${OUT:-/tmp/gpu_out}
data=/tmp/mlplab_data
mkdir -p "$OUT" "$data"
for f in .gpudata/*/raw/*.gz; do
    d=$(dirname "${f#.gpudata/}")
    mkdir -p "$data/$d"
    gunzip -c "$f" > "$data/$d/$(basename "$f" .gz)"
done
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1 MPLBACKEND=Agg MLPLAB_DATA="$data" MLPLAB_CACHE=/tmp/mlplab_cache
device=${MLPLAB_GPU_DEVICE:-cuda}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>/dev/null || true
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))" \
    >> "$OUT/gpu.txt"

budget=${MLPLAB_GPU_BUDGET:-420}
start=$(date +%s)
for recipe in ${MLPLAB_GPU_RECIPES:-mnist ae gan-2 gan-4 fashion}; do
    if [ $(( $(date +%s) - start )) -ge "$budget" ]; then
        echo "skipped $recipe: the ${budget}s budget is spent" >> "$OUT/log.txt"
        continue
    fi
    python3 benchmarks/bench_best.py "$recipe" --seeds 0 --also "device=$device" ${MLPLAB_GPU_ALSO:-} --no-report --data "$data" \
        --results "$OUT/bench_best_gpu.jsonl" --runs /tmp/mlplab_runs >> "$OUT/log.txt" 2>&1 ||
        echo "failed: $recipe (see above)" >> "$OUT/log.txt"
done
python3 benchmarks/bench_time_to_accuracy.py --data "$data" --device "$device" ${MLPLAB_GPU_TTA:-} > "$OUT/tta.txt" 2>&1 ||
    echo "failed: bench_time_to_accuracy (see tta.txt)" >> "$OUT/log.txt"
python3 benchmarks/bench_best.py --table --results "$OUT/bench_best_gpu.jsonl" > "$OUT/bench_best_gpu.txt"
cat "$OUT/gpu.txt" "$OUT/bench_best_gpu.txt"
