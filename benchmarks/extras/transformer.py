"""Graph-transformer extras against the plain GPS graph transformer (GraphTransformerClusterer).

The plain run is the estimator's defaults: 2 GPS layers of width 64, 4 heads, GCN local
layer, Performer attention, post-LN. Every variant changes one thing of it. Settings
fixed before running, from the papers or a principled default:

* ``slab``: SLAB's ReLU-kernel linear attention with neighbour-mixed values;
* ``conv_qkv``: Primer-style one-hop neighbour mixing after the Q/K/V projections
  (starting at the identity), then the same Performer attention;
* ``mod``: p-MoD routing with capacity decaying linearly from 1.0 (layer 1) to the final
  ratio 0.5 (layer 2);
* ``token_merge``: ToMe bipartite merging of 10 % of the nodes before each attention;
* ``wide_shallow``: Wide Attention, one layer with 4x the heads (16 of width 4);
* ``peri``: Peri-LN placement in every residual sublayer;
* ``recursive``: Relaxed Recursive Transformer, one GPS layer looped twice with
  depth-wise LoRA of rank 8 (width / 8).
"""

from graphclust.extras.transformer_config import (
    ConvolvedQKV,
    ExtraGraphTransformerConfig,
    MixtureOfDepths,
    SLABAttention,
    TokenMerging,
)
from graphclust.nn import GraphTransformerConfig

MODEL = "graph-transformer"

VARIANTS = {
    "slab": {"encoder": ExtraGraphTransformerConfig(attention=SLABAttention())},
    "conv_qkv": {"encoder": ExtraGraphTransformerConfig(attention=ConvolvedQKV())},
    "mod": {"encoder": ExtraGraphTransformerConfig(
        attention=MixtureOfDepths(final_capacity=0.5, schedule="linear"))},
    "token_merge": {"encoder": ExtraGraphTransformerConfig(
        attention=TokenMerging(merge_ratio=0.1))},
    "wide_shallow": {"encoder": GraphTransformerConfig(num_layers=1, heads=16)},
    "peri": {"encoder": ExtraGraphTransformerConfig(norm="peri")},
    "recursive": {"encoder": ExtraGraphTransformerConfig(share_layers=True, lora_rank=8)},
}
