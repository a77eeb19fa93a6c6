#!/usr/bin/env bash
# The quality table over the development set: SCGC and SCGC* with default parameters (final
# model and the optimistic paper protocol), beside the two no-training baselines every table
# carries: svd-kmeans for t = 0..3 propagation steps and degree-kmeans (k-means on log-degree).
#   bash benchmarks/bench_quality.sh [DATA_ROOT] [OUT] [all|baselines] [GROUP]
# The data sets run in groups, each with its own output folders, so that one group can be
# rerun alone (GROUP = a comma-separated list of small, air, large, cs; default: all four):
#   small: dblp,cora,digits (folders deep, svd_t<t>); air: uat,eat,bat (the air-traffic
#   graphs, deep_air, svd_t<t>_air); large: photo (deep_large, svd_t<t>_large); cs: cs
#   (deep_cs, svd_t<t>_cs; a full-batch fit of CS takes most of an hour on 2 cores).
# 10 seeds (5 on Photo and CS, whose fits take minutes; the SVD of CS's 6,805 features too).
# `baselines` runs only the two no-training baselines (seconds a fit). OMP_NUM_THREADS=1
# holds the runner's own work to one thread; each fit runs on graphclust bench's --threads
# default: one thread since 2026-12-07, every core (n_jobs=-1) before, as each results.csv's
# parameters record. Every line passes --no-baselines:
# the baselines run in their own folders here (svd_t<t>, degree), which quality_table reads.
# Then:
#   python -m benchmarks.quality_table [OUT]
set -euo pipefail
ROOT=${1:-../shared/data}
OUT=${2:-benchmarks/results/quality}
STAGES=${3:-all}
SETS=${4:-small,air,large,cs}
if [ "$STAGES" != all ] && [ "$STAGES" != baselines ]; then
  echo "third argument must be 'all' or 'baselines', got '$STAGES'" >&2
  exit 2
fi
export OMP_NUM_THREADS=1
for group in ${SETS//,/ }; do
  case "$group" in
    small) DATASETS=dblp,cora,digits; SEEDS=10; SUFFIX= ;;
    air) DATASETS=uat,eat,bat; SEEDS=10; SUFFIX=_air ;;
    large) DATASETS=photo; SEEDS=5; SUFFIX=_large ;;
    cs) DATASETS=cs; SEEDS=5; SUFFIX=_cs ;;
    *) echo "unknown group '$group' (small, air, large or cs)" >&2; exit 2 ;;
  esac
  if [ "$STAGES" = all ]; then
    graphclust bench --datasets "$DATASETS" --models scgc-star,scgc --seeds "$SEEDS" \
      --root "$ROOT" --out "$OUT/deep$SUFFIX" --protocol both --quiet --no-baselines
  fi
  for t in 0 1 2 3; do
    graphclust bench --datasets "$DATASETS" --models svd-kmeans --seeds "$SEEDS" --root "$ROOT" \
      --out "$OUT/svd_t$t$SUFFIX" --set propagation_steps=$t --quiet --no-baselines
  done
done
graphclust bench --datasets dblp,cora,digits,uat,eat,bat,photo,cs --models degree-kmeans \
  --seeds 10 --root "$ROOT" --out "$OUT/degree" --quiet --no-baselines
