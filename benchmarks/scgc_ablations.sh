#!/usr/bin/env bash
# Ablations of SCGC*'s defaults on DBLP and Cora: each line changes one default back (or to
# the paper's value, or to the recipe before the linear start) and reruns the benchmark
# runner. Results: benchmarks/results/ablations/.
#   bash benchmarks/scgc_ablations.sh [DATA_ROOT] [SEEDS]
# --no-baselines: the ablation table compares variants with the defaults, as when it ran.
set -euo pipefail
ROOT=${1:-../shared/data}
SEEDS=${2:-3}
OUT=benchmarks/results/ablations
GC=${GRAPHCLUST:-graphclust}
run() {  # name, then --set arguments
  local name=$1; shift
  "$GC" bench --datasets dblp,cora --models scgc-star --seeds "$SEEDS" --root "$ROOT" \
    --out "$OUT/$name" --quiet --no-baselines "$@"
}
run defaults
run previous_recipe --set pretrain=contrastive --set pretrain_epochs=50 --set size_prior=uniform --set alpha=0.1
run mlp_start --set pretrain=contrastive --set pretrain_epochs=50
run no_start_ridge --set pretrain_weight_decay=0
run no_start_whitening --set start_whitening=None
run uniform_sizes --set size_prior=uniform
run alpha_01 --set alpha=0.1
run alpha_0 --set alpha=0.0
run paper_tau --set tau=0.25
run autoencoder_start --set pretrain=autoencoder --set pretrain_epochs=30
run keep_isolated --set exclude_isolated=false
run euclidean_head --set normalize_embedding=false
run alpha_1 --set alpha=1.0 --set beta=0.1
run order_1 --set order=1
run embedding_10 --set embedding_dim=10
run sdcn_encoder --set "hidden_dims=(500,500,2000)" --set embedding_dim=10
run raw_features --set 'features="none"'
