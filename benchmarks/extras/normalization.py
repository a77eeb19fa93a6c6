"""Norm placements, activations and depth fusion against plain SCGC* (MLP features-256-32).

Every variant is a :class:`graphclust.extras.residual_mlp.ResidualMLPConfig` of the same
widths: input layer to 256, two residual feed-forward sublayers 256-256-256, output to
the 32-wide embedding. ``residual-pre`` (pre-LN, ReLU) is the reference of the family;
each other variant changes one thing of it. Settings fixed before running:

* ``peri``: Peri-LN (LayerNorm on the input and the output of each sublayer);
* ``prepbn``: SLAB's LayerNorm-to-RepBN schedule over 50 optimizer steps, the length of
  SCGC*'s contrastive start, so clustering trains and predicts with the folded BatchNorm;
* ``squared-relu``: Primer's ReLU(x)^2 in both sublayers;
* ``topk``: Lazy-Neuron top-k keeping 10 % of the 256 units of each row (26), the order of
  the 3-6 % non-zero activations the paper measured in trained T5/ViT, rounded up for
  layers 12 times narrower;
* ``fusion``: Florence-VL depth fusion of all three depths (after the input layer and
  after each sublayer) into the embedding.

LayerNorm Scaling (``norm="scaled"``) is not run at two sublayers: there it only
multiplies the second LayerNorm's output by 1/sqrt(2), which that LayerNorm's learned
weight and bias can represent exactly, a change of initial scale rather than the depth
correction the paper studies. It is run at depth instead: ``deep-pre`` (six residual
sublayers, pre-LN) against ``deep-scaled`` (the same with the l-th LayerNorm's output
scaled by 1/sqrt(l)), where the paper's effect (deep pre-LN layers whose outputs grow and
stop mattering) can show.

The plain model is SCGC*'s defaults, as for every extra: the residual variants are
deeper (3.8 x the parameters on DBLP, 1.7 x on Cora), so ``residual-pre`` against
``plain`` shows what the residual stack itself does, and the other variants are read
against ``residual-pre``.
"""

from graphclust.extras.residual_mlp import ResidualMLPConfig

_WIDTHS = {"hidden_dim": 256, "num_layers": 2}

VARIANTS = {
    "residual-pre": {"encoder": ResidualMLPConfig(**_WIDTHS, norm="pre")},
    "peri": {"encoder": ResidualMLPConfig(**_WIDTHS, norm="peri")},
    "prepbn": {"encoder": ResidualMLPConfig(**_WIDTHS, norm="prepbn", prepbn_steps=50)},
    "squared-relu": {"encoder": ResidualMLPConfig(**_WIDTHS, activation="squared_relu")},
    "topk": {"encoder": ResidualMLPConfig(**_WIDTHS, topk=0.1)},
    "fusion": {"encoder": ResidualMLPConfig(**_WIDTHS, fusion=True)},
    "deep-pre": {"encoder": ResidualMLPConfig(hidden_dim=256, num_layers=6, norm="pre")},
    "deep-scaled": {"encoder": ResidualMLPConfig(hidden_dim=256, num_layers=6,
                                                 norm="scaled")},
}
