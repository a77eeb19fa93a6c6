r"""Feature propagation over the graph: SGC's smoothing and SIGN's stacked hops.

With :math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (self-loops added, symmetric
normalisation; Wu et al., "Simplifying Graph Convolutional Networks", 2019):

* :func:`propagate`: :math:`S^t x`, the smoothed features of ``svd-kmeans``;
* :func:`stack_hops`: :math:`[x, Sx, \dots, S^h x]` side by side (Frasca et al., "SIGN:
  Scalable Inception Graph Neural Networks", 2020), the inputs of an encoder with
  ``input_hops=h``: a feature-only MLP over them reads the graph, and its first layer
  weighs the hops itself.

Both are parameter-free and sparse: :math:`O(t \cdot |E| \cdot d)`.
"""

from __future__ import annotations

import torch

from graphclust.objectives.contrastive import normalized_adjacency

__all__ = ["propagate", "stack_hops"]


def propagate(x: torch.Tensor, edge_index: torch.Tensor, steps: int) -> torch.Tensor:
    r""":math:`S^t x` with :math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, sparse."""
    if steps == 0:
        return x
    s = normalized_adjacency(edge_index, x.shape[0], symmetric=True, dtype=x.dtype)
    for _ in range(steps):
        x = torch.sparse.mm(s, x)
    return x


def stack_hops(x: torch.Tensor, edge_index: torch.Tensor, hops: int) -> torch.Tensor:
    r""":math:`[x, Sx, \dots, S^h x]`, shape ``(n, (h + 1) d)``; ``hops=0`` returns ``x``."""
    if hops < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    if hops == 0:
        return x
    s = normalized_adjacency(edge_index, x.shape[0], symmetric=True, dtype=x.dtype)
    blocks = [x]
    for _ in range(hops):
        blocks.append(torch.sparse.mm(s, blocks[-1]))
    return torch.cat(blocks, dim=1)
