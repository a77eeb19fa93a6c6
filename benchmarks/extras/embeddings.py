"""Embedding extras against plain SCGC* (defaults: MLP features-256-32).

Settings come from the papers or the plain model, fixed before running:

* projection head: SimCLR-style two-layer head g (32-32-32) on the default encoder;
* matryoshka: the default encoder trained on the prefixes 2, 4, 8, 16, 32 (one hidden
  layer, so every pair uses the full depth: the 1-D case of Starbucks' pair list);
* relaxed recursive: one residual feed-forward block of width 256 looped 4 times with
  depth-wise LoRA of rank 8 (Relaxed Recursive Transformers' small-rank setting);
* sliced recursive: the same block looped 4 times with SReT's non-shared projections
  and learnable residual coefficients, no LoRA.

The plain model is SCGC*'s defaults, as for every extra: the recursive encoders are
deeper by construction (that depth at a small parameter cost is what they offer).
"""

from graphclust.extras.matryoshka import MatryoshkaMLPConfig
from graphclust.extras.projection_head import ProjectionHeadConfig
from graphclust.extras.weight_sharing import RecursiveMLPConfig

VARIANTS = {
    "projection-head": {"encoder": ProjectionHeadConfig(hidden_dims=(256,), head_dims=(32,))},
    "matryoshka": {"encoder": MatryoshkaMLPConfig(hidden_dims=(256,), dims=(2, 4, 8, 16, 32))},
    "relaxed-recursive": {"encoder": RecursiveMLPConfig(hidden_dim=256, loops=4, lora_rank=8,
                                                        mode="relaxed")},
    "sliced-recursive": {"encoder": RecursiveMLPConfig(hidden_dim=256, loops=4, lora_rank=0,
                                                       mode="sliced")},
}
