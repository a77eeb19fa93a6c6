r"""Local message-passing layers shared by the MPNN + virtual node and the graph transformer.

* ``"gcn"``: :math:`h_i' = \sum_{j \in N(i) \cup \{i\}} \frac{1}{\sqrt{\tilde d_i \tilde d_j}}
  W h_j` (Kipf & Welling), PyG's ``GCNConv``;
* ``"gin"``: :math:`h_i' = \mathrm{MLP}\big((1 + \epsilon) h_i + \sum_{j \in N(i)} h_j\big)`
  (Xu et al.), PyG's ``GINConv`` with a two-layer MLP and learnable :math:`\epsilon`.

Both run on a plain ``edge_index`` without torch-scatter or torch-sparse.
"""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import GCNConv, GINConv

__all__ = ["LOCAL_CONVS", "local_conv"]

LOCAL_CONVS = ("gcn", "gin")


def local_conv(kind: str, channels: int) -> nn.Module:
    """A ``channels -> channels`` message-passing layer, ``forward(h, edge_index)``."""
    if kind == "gcn":
        return GCNConv(channels, channels)
    if kind == "gin":
        mlp = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(),
                            nn.Linear(channels, channels))
        return GINConv(mlp, train_eps=True)
    raise ValueError(f"conv={kind!r} is not one of {LOCAL_CONVS}")
