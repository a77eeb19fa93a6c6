#!/usr/bin/env bash
# The quality table over the development set: SCGC and SCGC* with default parameters (final
# model and the optimistic paper protocol), beside the two no-training baselines every table
# carries: svd-kmeans for t = 0..3 propagation steps and degree-kmeans (k-means on log-degree).
#   bash benchmarks/bench_quality.sh [DATA_ROOT] [OUT] [all|baselines]
# 10 seeds (5 on Photo and CS, whose fits take minutes; the SVD of CS's 6,805 features too). `baselines` runs only the two
# no-training baselines (seconds a fit). One thread per process keeps the timings
# comparable on a shared 2-core machine. Then: python -m benchmarks.quality_table [OUT]
set -euo pipefail
ROOT=${1:-../shared/data}
OUT=${2:-benchmarks/results/quality}
STAGES=${3:-all}
SMALL=dblp,cora,uat,eat,bat,digits
LARGE=photo,cs
export OMP_NUM_THREADS=1
if [ "$STAGES" = all ]; then
  graphclust bench --datasets "$SMALL" --models scgc-star,scgc --seeds 10 --root "$ROOT" \
    --out "$OUT/deep" --protocol both --quiet
  graphclust bench --datasets "$LARGE" --models scgc-star,scgc --seeds 5 --root "$ROOT" \
    --out "$OUT/deep_large" --protocol both --quiet
elif [ "$STAGES" != baselines ]; then
  echo "third argument must be 'all' or 'baselines', got '$STAGES'" >&2
  exit 2
fi
for t in 0 1 2 3; do
  graphclust bench --datasets "$SMALL" --models svd-kmeans --seeds 10 --root "$ROOT" \
    --out "$OUT/svd_t$t" --set propagation_steps=$t --quiet
  graphclust bench --datasets "$LARGE" --models svd-kmeans --seeds 5 --root "$ROOT" \
    --out "$OUT/svd_t${t}_large" --set propagation_steps=$t --quiet
done
graphclust bench --datasets "$SMALL,$LARGE" --models degree-kmeans --seeds 10 --root "$ROOT" \
  --out "$OUT/degree" --quiet
