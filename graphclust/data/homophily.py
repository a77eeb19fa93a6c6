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
feature). :math:`s_P` is exact, :math:`O(N d)` time and no copy of ``x``. :math:`s_E` is
exact up to :data:`EDGE_BUDGET` / d edge entries and otherwise a mean over that many
entries drawn uniformly (with a fixed seed, so a graph always gets the same value):
gathering two d-wide rows an edge is what costs, and a per-edge similarity lies in
[-1, 1], so the sample's standard error stays below :math:`1 / \sqrt{m}` (0.01 at the
widest development graph's m = 9,861, Coauthor CS's 6,805 features).

Measured on the transformed features (``features="auto"``; `benchmarks/results/
feature_homophily.md`): 0.099-0.79 on the development graphs other than the air-traffic
ones (Cora 0.099, Photo 0.21, CS 0.32, DBLP 0.36, digits 0.79), and 0.02 or below on the
air-traffic graphs and the weak-feature SBM, where SCGC* loses to the no-training
baselines. A value above 0.05 does not promise a win: on Photo (0.21) SCGC* trails
``svd-kmeans`` by 0.005 ACC. It costs 1.4 s on Coauthor CS's 18,333 x 6,805 features (one
thread), most of it the float64 pass for :math:`s_P`, 0.3 s or less on the other
development graphs.
"""

from __future__ import annotations

import torch

from graphclust._checks import check_edge_index

__all__ = ["EDGE_BUDGET", "feature_homophily"]

#: Feature entries gathered for the edges' similarities: every edge entry while there are
#: at most ``EDGE_BUDGET / d`` of them, else that many drawn (d: the feature width).
EDGE_BUDGET = 2**26
# Rows a chunk (of edges, or of nodes for the column counts), times the feature width:
# 2**20 values (8 MiB in float64): no step holds more than a few such buffers beside x,
# whatever N. At 2**22 the edge pass held about 190 MiB at once (two gathered rows in
# float32 and float64, scaled, and their product), the largest peak of a Cora fit.
_CHUNK_ENTRIES = 2**20


@torch.no_grad()
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
    n = x.shape[0]
    check_edge_index(edge_index, n)
    if n < 2 or edge_index.shape[1] == 0:
        raise ValueError(f"feature homophily needs at least two nodes and one edge, got "
                         f"{n} nodes and {edge_index.shape[1]} edge entries")
    if x.shape[1] == 0:
        raise ValueError("x has no feature columns")
    step = max(1, _CHUNK_ENTRIES // x.shape[1])
    shared = torch.zeros(x.shape[1], dtype=torch.long, device=x.device)
    norms, total = [], torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    for rows in x.split(step):  # one pass, float64 a chunk: no copy of x, exact sums
        if not bool(torch.isfinite(rows).all()):
            raise ValueError("x holds NaN or infinite values")
        shared += (rows != 0).sum(0)
        wide = rows.to(torch.float64)
        norm = torch.linalg.vector_norm(wide, dim=1)
        norms.append(norm)
        # sum_i u_i = x^T (1 / |x_i|), a chunk of rows at a time.
        total += wide.t() @ torch.where(norm > 0, norm.reciprocal(), torch.zeros_like(norm))
    if int(shared.max()) <= 1:  # no feature shared by two nodes
        return float("nan")
    norms = torch.cat(norms)
    inverse = torch.where(norms > 0, norms.reciprocal(), torch.zeros_like(norms))
    pairs = (float(total @ total) - float((norms > 0).sum())) / (n * (n - 1))
    if 1.0 - pairs <= 1e-9:  # every pair alike, up to float64 rounding over N rows
        return float("nan")
    sources, targets = edge_index.to(x.device, torch.long)
    budget = max(1, EDGE_BUDGET // x.shape[1])
    if sources.numel() > budget:
        generator = torch.Generator(device="cpu").manual_seed(0)
        drawn = torch.randint(sources.numel(), (budget,), generator=generator).to(x.device)
        sources, targets = sources[drawn], targets[drawn]
    # Each edge's rows made unit vectors in float64 before their product: a float32
    # product of raw rows overflowed above about 1e19 (NaN) and underflowed below 1e-22.
    # Scaled in place (x[s] is a gathered copy) and reduced without a product tensor.
    linked = sum(float(torch.linalg.vecdot(x[s].to(torch.float64).mul_(inverse[s, None]),
                                           x[t].to(torch.float64).mul_(inverse[t, None])).sum())
                 for s, t in zip(sources.split(step), targets.split(step), strict=True))
    return (linked / sources.numel() - pairs) / (1.0 - pairs)
