#!/usr/bin/env bash
# The 10-seed quality table of issue 3: SCGC and SCGC* with default parameters (final model
# and the optimistic paper protocol), plus the SVD k-means baseline for t = 0..3
# propagation steps, on DBLP, Cora, the air-traffic graphs and digits.
#   bash benchmarks/bench_quality.sh [DATA_ROOT] [OUT]
# One thread per process keeps the timings comparable on a shared 2-core machine.
set -euo pipefail
ROOT=${1:-../shared/data}
OUT=${2:-benchmarks/results/quality}
DATASETS=dblp,cora,uat,eat,bat,digits
export OMP_NUM_THREADS=1
graphclust bench --datasets "$DATASETS" --models scgc-star,scgc --seeds 10 --root "$ROOT" \
  --out "$OUT/deep" --protocol both --quiet
for t in 0 1 2 3; do
  graphclust bench --datasets "$DATASETS" --models svd-kmeans --seeds 10 --root "$ROOT" \
    --out "$OUT/svd_t$t" --set propagation_steps=$t --quiet
done
