#!/usr/bin/env bash
# Quick probes for the open Cora gap (issue 3): one parameter changed from the defaults,
# 3 seeds, Cora and DBLP. Results: benchmarks/results/cora_probes/<name>/results.md
#   bash benchmarks/cora_probes.sh [DATA_ROOT]
# --no-baselines: probes of one parameter against each other, as when they ran.
set -euo pipefail
ROOT=${1:-../shared/data}
GC=${GRAPHCLUST:-graphclust}
run() {
  local name=$1; shift
  # Pinned to the recipe these probes were run with (before the linear start).
  "$GC" bench --datasets cora,dblp --models scgc-star --seeds 3 --root "$ROOT" \
    --out "benchmarks/results/cora_probes/$name" --quiet --no-baselines --set pretrain=contrastive \
    --set pretrain_epochs=50 --set size_prior=uniform --set alpha=0.1 "$@"
}
run order_3 --set order=3
run order_4 --set order=4
run tau_0.5 --set tau=0.5
run tau_2 --set tau=2.0
run order_3_tau_0.5 --set order=3 --set tau=0.5
run order_3_embedding_64 --set order=3 --set embedding_dim=64
