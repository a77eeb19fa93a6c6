"""Optimisation extras against plain SCGC* (defaults: MLP features-256-32, Adam).

Settings come from the papers or the plain model, fixed before running:

* tract: the default encoder with a TrAct first layer, the paper's lambda = 0.1;
* tract-relative: the same with lambda measured in units of the mean eigenvalue of the
  first layer's X^T X / b. The paper's 0.1 is meant for standardised inputs (mean
  eigenvalue about 1); our TF-IDF rows have unit norm (mean eigenvalue 1/d), where an
  absolute 0.1 dominates every eigenvalue and TrAct stays close to plain Adam;
* mup: the default width 256 in muP with base width 64, at the estimator's default
  learning rates. In muP the learning rate is tuned at the base width; the defaults were
  chosen for width 256 under the standard parametrisation and are used here untuned, so
  this measures muP's scaling at the default settings, not a transferred optimum
  (``benchmarks/bench_mup.py`` sweeps learning rates across widths);
* mlp-256x2: the plain MLP with two hidden layers 256-256, the architecture local
  learning needs (one block per hidden layer), so that local learning is compared with
  end-to-end training of the same network, not only with the one-layer default;
* local-learning: that 256-256 MLP trained block-wise (AugLocal adaptation): the second
  block's input is detached and the first block learns from an auxiliary head of depth 1
  (a fresh copy of the 256-256 layer, then a projection to 32).
"""

from graphclust.extras.local_learning import LocalLearningMLPConfig
from graphclust.extras.mup import MuPMLPConfig
from graphclust.extras.tract import TrActMLPConfig
from graphclust.nn import MLPConfig

VARIANTS = {
    "tract": {"encoder": TrActMLPConfig(hidden_dims=(256,), lam=0.1)},
    "tract-relative": {"encoder": TrActMLPConfig(hidden_dims=(256,), lam=0.1,
                                                 relative_lam=True)},
    "mup": {"encoder": MuPMLPConfig(hidden_dims=(256,), base_width=64)},
    "mlp-256x2": {"encoder": MLPConfig(hidden_dims=(256, 256))},
    "local-learning": {"encoder": LocalLearningMLPConfig(hidden_dims=(256, 256), aux_depth=1)},
}
