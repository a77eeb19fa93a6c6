r"""Positional encodings of nodes for the graph transformer (small graphs only).

* Random-walk PE (Dwivedi et al., "Graph Neural Networks with Learnable Structural and
  Positional Representations", ICLR 2022): :math:`p_i = \big[(RW)_{ii}, (RW^2)_{ii},
  \dots, (RW^k)_{ii}\big]` with :math:`RW = D^{-1}A`, the probabilities of returning to
  :math:`i` after :math:`1..k` steps. Formed as :math:`RW^t` applied to the identity,
  :math:`O(k \cdot |E| \cdot N)` time and :math:`N^2` memory.
* Laplacian PE (Dwivedi & Bresson, 2020): the eigenvectors of the :math:`k` smallest
  non-trivial eigenvalues of :math:`L = I - D^{-1/2} A D^{-1/2}` (dense eigendecomposition,
  :math:`O(N^3)`). Their signs are arbitrary; the transformer flips them at random while
  training so that it cannot rely on them.

Both read the graph as undirected (an edge given in one direction links the pair both
ways): a sampled subgraph lists its edges from neighbour to seed only, and the Laplacian
of a one-way adjacency is not symmetric, so ``eigh`` would read half of it. Both refuse
graphs above ``max_nodes`` with a clear error: they are for small graphs. Isolated nodes
get zeros (no walk returns; no Laplacian structure beyond the trivial).
"""

from __future__ import annotations

import torch

__all__ = ["POSITIONAL_ENCODINGS", "laplacian_pe", "random_walk_pe"]

POSITIONAL_ENCODINGS = ("random_walk", "laplacian")
# Eigenvalues up to this count as zero (trivial) in laplacian_pe.
_TRIVIAL = 1e-8


def _check_size(num_nodes: int, max_nodes: int, kind: str) -> None:
    if num_nodes > max_nodes:
        raise ValueError(
            f"{kind} positional encodings need an N x N matrix: the graph has {num_nodes} "
            f"nodes, above the limit of {max_nodes}; use positional_encoding=None"
        )


def _undirected(edge_index: torch.Tensor) -> torch.Tensor:
    """Each linked pair once in each direction, without self-loops."""
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    return torch.unique(both[:, both[0] != both[1]], dim=1)


def random_walk_pe(edge_index: torch.Tensor, num_nodes: int, steps: int,
                   max_nodes: int = 10000) -> torch.Tensor:
    """Return probabilities after ``1..steps`` steps, shape ``(num_nodes, steps)``."""
    _check_size(num_nodes, max_nodes, "random-walk")
    edge_index = _undirected(edge_index)
    degree = torch.bincount(edge_index[0], minlength=num_nodes).float()
    inverse = torch.where(degree > 0, 1.0 / degree.clamp_min(1), torch.zeros_like(degree))
    values = inverse[edge_index[0]]
    walk = torch.sparse_coo_tensor(edge_index, values, (num_nodes, num_nodes),
                                   check_invariants=True).coalesce()
    power = torch.eye(num_nodes, device=edge_index.device)
    columns = []
    for _ in range(steps):
        power = torch.sparse.mm(walk, power)
        columns.append(power.diagonal())
    return torch.stack(columns, dim=1)


def laplacian_pe(edge_index: torch.Tensor, num_nodes: int, k: int,
                 max_nodes: int = 5000) -> torch.Tensor:
    """Eigenvectors of the ``k`` smallest non-trivial eigenvalues, shape ``(num_nodes, k)``.

    The trivial ones are the zero eigenvalues, one per connected component (with more
    than one node); an isolated node's row is zeros (its own eigenvector, of eigenvalue
    1, would only mark that node). Fewer than ``k`` non-trivial eigenvalues: the missing
    columns are zeros.
    """
    _check_size(num_nodes, max_nodes, "Laplacian")
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.float64, device=edge_index.device)
    adjacency[tuple(_undirected(edge_index))] = 1.0
    linked = adjacency.sum(1) > 0
    encoding = adjacency.new_zeros(num_nodes, k)
    if linked.any():
        adjacency = adjacency[linked][:, linked]
        scale = adjacency.sum(1).rsqrt()
        laplacian = torch.eye(len(adjacency), dtype=torch.float64, device=edge_index.device) \
            - scale[:, None] * adjacency * scale[None, :]
        values, vectors = torch.linalg.eigh(laplacian)
        # The normalised Laplacian's eigenvalues lie in [0, 2]; float64 leaves the zero
        # ones within about 1e-15 of 0.
        vectors = vectors[:, values > _TRIVIAL][:, :k]
        encoding[torch.nonzero(linked).flatten()[:, None],
                 torch.arange(vectors.shape[1], device=edge_index.device)] = vectors
    return encoding.float()
