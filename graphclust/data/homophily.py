r"""Feature homophily: how much more alike linked nodes' features are than any two nodes'.

Neighbour-contrastive clustering (SCGC, SCGC*) pulls a node's embedding towards its
neighbours'. That helps when linked nodes already resemble each other in the features the
encoder reads; where they do not, the graph and the features pull apart. This statistic
reads only the features and the edges, no labels, so a fit can report it.

With :math:`u_i = x_i / \lVert x_i \rVert_2` (a row of zeros stays zero), the mean cosine
similarity over the edge entries :math:`E` and over all ordered pairs of distinct nodes,

.. math::

    s_E = \frac{1}{|E|} \sum_{(i, j) \in E} u_i^\top u_j, \qquad
    s_P = \frac{\lVert \sum_i u_i \rVert^2 - \sum_i \lVert u_i \rVert^2}{N (N - 1)},

the feature homophily is

.. math::

    h = \frac{s_E - s_P}{1 - s_P},

the share of the way from two nodes drawn at random to identical feature directions that
linked nodes go: 1 when every edge joins nodes whose features point the same way, about 0
when edges join nodes no more alike than random pairs (a graph whose edges were shuffled),
negative when they are less alike (hubs linked to small nodes, with the degree as a
feature). :math:`s_P` is exact, not sampled: :math:`O(N d)` for the pairs and
:math:`O(|E| d)` for the edges.

Measured on the transformed features (``features="auto"``; `benchmarks/results/
feature_homophily.md`): 0.10-0.79 on the development graphs where SCGC* beats the
no-training baselines (Cora 0.099, Photo 0.21, CS 0.32, DBLP 0.36, digits 0.79), and
0.02 or below where it does not (the air-traffic graphs, the weak-feature SBM).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["feature_homophily"]

# Gathered rows per chunk of edges, times the feature width: 2**22 floats (16 MiB) a side,
# so the edges' similarities never cost more memory than a small fixed buffer.
_CHUNK_ENTRIES = 2**22


def feature_homophily(x: torch.Tensor, edge_index: torch.Tensor) -> float:
    """Feature homophily :math:`h` of a graph (module docstring).

    Parameters
    ----------
    x : torch.Tensor of shape (N, d)
        Dense node features, as the encoder reads them (after the feature transform).
    edge_index : torch.LongTensor of shape (2, E)
        Edge entries; an undirected edge listed in both directions counts twice, which
        leaves the mean unchanged.

    Returns
    -------
    float
        :math:`h \\le 1`; ``nan`` where "more alike than random pairs" has no meaning:
        when no feature is non-zero on two nodes (a one-hot code of the node itself, the
        usual stand-in for a graph without features: nothing makes two nodes alike, and
        the graph is the only signal), or when every pair has the same direction
        (:math:`s_P = 1`).

    Examples
    --------
    >>> x = torch.tensor([[1., 0.], [1., 0.], [0., 1.], [0., 1.]])
    >>> round(feature_homophily(x, torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])), 3)
    1.0
    >>> round(feature_homophily(x, torch.tensor([[0, 2, 1, 3], [2, 0, 3, 1]])), 3)
    -0.5
    """
    if not isinstance(x, torch.Tensor) or x.layout != torch.strided or x.dim() != 2:
        raise TypeError("x must be a dense 2-D torch tensor (nodes x features)")
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 \
            or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
        raise TypeError("edge_index must be a (2, E) torch.long tensor")
    n = x.shape[0]
    if n < 2 or edge_index.shape[1] == 0:
        raise ValueError(f"feature homophily needs at least two nodes and one edge, got "
                         f"{n} nodes and {edge_index.shape[1]} edge entries")
    if int(edge_index.min()) < 0 or int(edge_index.max()) >= n:
        raise ValueError(f"edge_index names nodes outside 0..{n - 1}")
    if int((x != 0).sum(0).max()) <= 1:  # no feature shared by two nodes
        return float("nan")
    units = F.normalize(x.to(torch.float32), dim=1)
    total = units.sum(0, dtype=torch.float64)  # sums in double: N terms of up to 1 each
    pairs = (float(total @ total) - float(units.square().sum(dtype=torch.float64))) \
        / (n * (n - 1))
    step = max(1, _CHUNK_ENTRIES // max(1, x.shape[1]))
    sources, targets = edge_index.to(x.device)
    linked = sum(float((units[s] * units[t]).sum(dtype=torch.float64))
                 for s, t in zip(sources.split(step), targets.split(step), strict=True))
    linked /= edge_index.shape[1]
    if 1.0 - pairs <= 1e-6:  # every pair alike, up to float32 rounding
        return float("nan")
    return (linked - pairs) / (1.0 - pairs)
