#!/usr/bin/env bash
# Issue 6: the MPNN + virtual node and graph-transformer baselines, trained with SCGC*'s
# objective and default parameters, 10 seeds, final model, on the data sets of the quality
# table (fewer seeds on Photo and CS; SCGC / SCGC* rows come from bench_quality.sh, same code and defaults), then the
# cost of both as the graph grows (benchmarks.bench_graph_models_scaling).
#   bash benchmarks/bench_graph_models.sh [DATA_ROOT]
# OMP_NUM_THREADS=1 holds the runner's own work to one thread; each fit runs on graphclust
# bench's --threads default: one thread since 2026-12-07, every core (n_jobs=-1) before, as
# each results.csv's parameters record.
# --no-baselines: graph_models_table takes the baselines from bench_quality.sh's folders.
set -euo pipefail
ROOT=${1:-../shared/data}
GC=${GRAPHCLUST:-graphclust}
export OMP_NUM_THREADS=1
# The two models run side by side, one process (and one core) each; the air-traffic graphs
# and Photo (5 seeds, as in bench_quality.sh) in folders of their own (quality_air,
# quality_large), so that they can be rerun alone. Coauthor CS: 5 seeds each, after both
# (10-20 minutes a fit; on 2026-12-08 the two models ran side by side, one core each).
pids=()
for model in mpnn-vn graph-transformer; do
  {
    "$GC" bench --datasets cora,dblp,digits --models "$model" --seeds 10 --root "$ROOT" \
      --out "benchmarks/results/graph_models/quality/$model" --quiet --no-baselines
    "$GC" bench --datasets uat,eat,bat --models "$model" --seeds 10 --root "$ROOT" \
      --out "benchmarks/results/graph_models/quality_air/$model" --quiet --no-baselines
    "$GC" bench --datasets photo --models "$model" --seeds 5 --root "$ROOT" \
      --out "benchmarks/results/graph_models/quality_large/$model" --quiet --no-baselines
  } &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done  # both finish before we fail
[ "$status" -eq 0 ]
for model in mpnn-vn graph-transformer; do
  "$GC" bench --datasets cs --models "$model" --seeds 5 --root "$ROOT" \
    --out "benchmarks/results/graph_models/quality_cs/$model" --quiet --no-baselines
done
python -m benchmarks.bench_graph_models_scaling
python -m benchmarks.graph_models_table
