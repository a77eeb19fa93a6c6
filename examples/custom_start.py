"""A custom start: begin the encoder as the PCA projection of the features.

A start is any object with ``check(config, embedding_dim)`` and
``__call__(encoder, run, *, config, contrastive, decoder) -> encoder`` (see
``graphclust.starts``). This one trains nothing: it computes the leading principal
directions of the (transformed) features and grows that linear map into the MLP encoder
with the encoder configuration's ``from_linear``, as the default ``LinearStart`` does with
its contrastively trained map. k-means then places the centres on the PCA embedding and
joint training proceeds as usual.

Run: ``python examples/custom_start.py`` (two short fits on the digits, seconds).
"""

from dataclasses import dataclass

import torch
from torch import nn

from graphclust import SCGCStar, evaluate, load_dataset


@dataclass(frozen=True)
class PCAStart:
    """The encoder starts as the projection on the leading principal directions."""

    def check(self, config, embedding_dim: int) -> None:
        if not hasattr(config, "from_linear"):
            raise ValueError(f"PCAStart grows a linear map; {type(config).__name__} cannot")

    def __call__(self, encoder, run, *, config, contrastive, decoder):
        x = run.inputs.x
        mean = x.mean(0)
        # torch's randomized PCA draws from the global generator, which fit has seeded.
        _, _, directions = torch.pca_lowrank(x, q=run.embedding_dim, center=True)
        linear = nn.Linear(x.shape[1], run.embedding_dim).to(x.device)
        with torch.no_grad():
            linear.weight.copy_(directions.T)
            linear.bias.copy_(-(mean @ directions))
        run.history.append({"epoch": 0, "phase": "pretrain", "loss": 0.0})
        return config.from_linear(linear)


graph = load_dataset("digits")
for name, start in (("default linear start", None), ("PCA start", PCAStart())):
    model = SCGCStar(n_clusters=10, start=start, max_epochs=30, random_state=0)
    scores = evaluate(graph.y, model.fit_predict(graph))
    print(f"{name}: ACC {scores['acc']:.3f}  NMI {scores['nmi']:.3f}")
