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

from graphclust._checks import check_integer
from graphclust.objectives.contrastive import normalized_adjacency

__all__ = ["MAX_PROPAGATION_STEPS", "propagate", "propagation_powers", "stack_hops"]

#: The most steps an estimator propagates (``propagation_steps``, ``input_hops``): far
#: past the few steps graph clustering smooths over, and a bound on the work that the
#: parameters of a saved model file, which ``predict`` propagates the rows it is given
#: by, can ask for (unbounded, a file naming 2**40 steps kept ``predict`` busy for ever).
MAX_PROPAGATION_STEPS = 256


def propagation_powers(x: torch.Tensor, edge_index: torch.Tensor, first: int,
                       last: int) -> list[torch.Tensor]:
    r""":math:`[S^{first} x, \dots, S^{last} x]`, building :math:`S` once (none when
    ``last == 0``)."""
    if not 0 <= first <= last:
        raise ValueError(f"need 0 <= first <= last, got first={first}, last={last}")
    if last == 0:
        return [x]
    s = normalized_adjacency(edge_index, x.shape[0], symmetric=True, dtype=x.dtype)
    powers = []
    for step in range(last + 1):
        if step >= first:
            powers.append(x)
        if step < last:
            x = torch.sparse.mm(s, x)
    return powers


def propagate(x: torch.Tensor, edge_index: torch.Tensor, steps: int) -> torch.Tensor:
    r""":math:`S^t x` with :math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, sparse."""
    steps = check_integer("steps", steps, 0)  # True is no count; 2.0 failed in range()
    return propagation_powers(x, edge_index, steps, steps)[0]


def stack_hops(x: torch.Tensor, edge_index: torch.Tensor, hops: int) -> torch.Tensor:
    r""":math:`[x, Sx, \dots, S^h x]`, shape ``(n, (h + 1) d)``; ``hops=0`` returns ``x``."""
    hops = check_integer("hops", hops, 0)  # True is no count; 2.0 failed in range()
    return x if hops == 0 else torch.cat(propagation_powers(x, edge_index, 0, hops), dim=1)
