r"""Random walks on :math:`\hat A = \tilde D^{-1}(A + I)` and sampled contrastive positives.

SCGC weighs the positives of node :math:`i` by row :math:`i` of :math:`W = \hat A^r`,
SCGC* by row :math:`i` of :math:`W = \sum_{l=1}^{r} \hat A^l`. Both are dense for any
connected graph, so mini-batch training estimates them by random walks. Because
:math:`\hat A` is row-stochastic, a walk :math:`x_0 = i, x_1, \dots, x_r` that moves from
:math:`x_{l-1}` to :math:`x_l` with probability :math:`\hat A_{x_{l-1} x_l}` satisfies

.. math::

    P(x_l = j) = (\hat A^l)_{ij}, \qquad
    \mathbb E\Big[\sum_{l=1}^{r} \mathbf 1[x_l = j]\Big] = \sum_{l=1}^{r} (\hat A^l)_{ij}.

So the end point of the walk is a sample from row :math:`i` of :math:`\hat A^r`, and the
visit counts along it are an unbiased estimate of row :math:`i` of
:math:`\sum_l \hat A^l`. A step of the walk is one uniform draw among the
:math:`d_x + 1` entries of row :math:`x` of :math:`A + I` (the neighbours and the node
itself), which is exactly :math:`\hat A_{x \cdot}`.

An isolated node has :math:`\hat A_{i \cdot} = e_i`: its walks stay put, and its only
positive is the node itself (weight 1 under SCGC, :math:`r` under SCGC*).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from graphclust._checks import check_flag, check_integer
from graphclust.objectives.contrastive import POSITIVE_KINDS

from .csr import CSRGraph, _check_generator, _check_node_ids, _random_below

__all__ = ["Positives", "random_walks", "sample_positives"]


def random_walks(
    csr: CSRGraph,
    starts: torch.Tensor,
    length: int,
    generator: torch.Generator | None = None,
    self_loops: bool = True,
) -> torch.Tensor:
    r"""Independent random walks of ``length`` steps, vectorised over walkers.

    With ``self_loops=True`` each step follows :math:`\hat A = \tilde D^{-1}(A + I)`:
    from node :math:`x` of degree :math:`d_x` the walker moves to each of the
    :math:`d_x` CSR entries of :math:`x` with probability :math:`1 / (d_x + 1)` and
    stays with probability :math:`1 / (d_x + 1)`. With ``self_loops=False`` it follows
    :math:`D^{-1} A`, moving to each entry with probability :math:`1 / d_x`. In both
    cases an isolated node (:math:`d_x = 0`) keeps its walker.

    Parameters
    ----------
    csr : CSRGraph
        The graph. Duplicate entries and self-loops in it count with their
        multiplicity, as in :math:`A`.
    starts : torch.Tensor
        ``int64`` start nodes of shape ``(W,)`` on ``csr.device``; repeats allowed.
    length : int
        Number of steps, ``>= 0``.
    generator : torch.Generator, optional
        Source of randomness, on the device type of ``csr``.
    self_loops : bool, default=True
        Walk on :math:`\hat A` (with the stay option) rather than on :math:`D^{-1}A`.

    Returns
    -------
    torch.Tensor
        ``int64`` tensor of shape ``(W, length + 1)``; column ``l`` holds the node
        after ``l`` steps, column 0 the start.
    """
    if not isinstance(csr, CSRGraph):
        raise TypeError(f"csr must be a CSRGraph, got {type(csr).__name__}.")
    _check_node_ids(starts, csr, "starts")
    length = check_integer("length", length, 0)  # a NumPy count is a count
    self_loops = check_flag("self_loops", self_loops)
    _check_generator(generator, csr.device)

    walks = torch.empty((starts.numel(), length + 1), dtype=torch.int64, device=csr.device)
    walks[:, 0] = starts
    if csr.num_edges == 0:
        walks[:, 1:] = starts.unsqueeze(1)
        return walks
    current = starts
    for step in range(1, length + 1):
        # index_select rather than tensor indexing: same result, markedly faster on CPU.
        row_start = csr.rowptr.index_select(0, current)
        degree = csr.rowptr.index_select(0, current + 1) - row_start
        if self_loops:
            # Choice `degree` is the stay option of the identity in A + I.
            choice = _random_below(degree + 1, generator)
            moves = choice < degree
        else:
            choice = _random_below(degree.clamp(min=1), generator)
            moves = degree > 0
        # Walkers that stay read a valid dummy position; their value is discarded.
        position = torch.where(moves, row_start + choice, 0)
        current = torch.where(moves, csr.col.index_select(0, position), current)
        walks[:, step] = current
    return walks


class Positives(NamedTuple):
    """Sampled positive pairs, flat so that a loss can scatter over them.

    Attributes
    ----------
    seed_index : torch.Tensor
        ``int64`` index into the ``seeds`` given to :func:`sample_positives` (a local
        batch index, not a node id) of the anchor of each pair.
    node_ids : torch.Tensor
        ``int64`` global id of the positive node of each pair. It can equal the
        anchor's own id (walks return or stay), in which case the loss should use
        the anchor's self-similarity.
    weight : torch.Tensor
        Floating weight of each pair; summed per ``(seed_index, node_ids)`` pair it is
        an unbiased estimate of :math:`W_{ij}`.
    """

    seed_index: torch.Tensor
    node_ids: torch.Tensor
    weight: torch.Tensor


def sample_positives(
    csr: CSRGraph,
    seeds: torch.Tensor,
    order: int,
    num_samples: int,
    kind: str = "power",
    generator: torch.Generator | None = None,
    coalesce: bool = True,
) -> Positives:
    r"""Unbiased sparse estimates of the rows of SCGC's positive weights for ``seeds``.

    Each seed :math:`i` starts ``num_samples`` independent walks of ``order`` steps on
    :math:`\hat A` (see :func:`random_walks`).

    * ``kind="power"`` (SCGC, :math:`W = \hat A^r`): each walk's end point
      :math:`x_r` is a positive with weight :math:`1 / S`, ``S = num_samples``. Then
      :math:`\mathbb E[\hat W_{ij}] = P(x_r = j) = (\hat A^r)_{ij}` and
      :math:`\sum_j \hat W_{ij} = 1`.
    * ``kind="influence"`` (SCGC*, :math:`W = \sum_{l=1}^r \hat A^l`): each of the
      visits :math:`x_1, \dots, x_r` is a positive with weight :math:`1 / S`, so
      :math:`\mathbb E[\hat W_{ij}] = \sum_l (\hat A^l)_{ij}` and
      :math:`\sum_j \hat W_{ij} = r`.

    Parameters
    ----------
    csr : CSRGraph
        The graph.
    seeds : torch.Tensor
        ``int64`` anchor nodes of shape ``(B,)`` on ``csr.device``.
    order : int
        Walk length :math:`r \ge 1`.
    num_samples : int
        Walks per seed, ``S >= 1``.
    kind : {"power", "influence"}, default="power"
        Which :math:`W` to estimate.
    generator : torch.Generator, optional
        Source of randomness, on the device type of ``csr``.
    coalesce : bool, default=True
        Merge repeated ``(seed_index, node_ids)`` pairs, summing their weights; the
        pairs then come sorted by seed index, then node id. Without it there are
        ``B * S`` pairs (power) or ``B * S * r`` (influence), ordered by seed, walk,
        then step.

    Returns
    -------
    Positives
        ``(seed_index, node_ids, weight)``; ``weight`` has torch's default dtype.

    Notes
    -----
    The estimate of :math:`W_{ij}` is unbiased; a loss that applies a non-linear
    function (such as the logarithm of SCGC's neighbour loss) to a sum over it is
    not, with a bias that shrinks as ``num_samples`` grows.
    """
    if kind not in POSITIVE_KINDS:
        raise ValueError(f"kind must be one of {POSITIVE_KINDS}, got {kind!r}.")
    # NumPy counts are counts: the estimators' tables pass np.int64 through.
    order = check_integer("order", order, 1)
    num_samples = check_integer("num_samples", num_samples, 1)
    coalesce = check_flag("coalesce", coalesce)
    if not isinstance(csr, CSRGraph):
        raise TypeError(f"csr must be a CSRGraph, got {type(csr).__name__}.")
    _check_node_ids(seeds, csr, "seeds")

    starts = seeds.repeat_interleave(num_samples)
    walks = random_walks(csr, starts, order, generator=generator, self_loops=True)
    if kind == "power":
        node_ids = walks[:, -1]
        pairs_per_seed = num_samples
    else:
        node_ids = walks[:, 1:].reshape(-1)
        pairs_per_seed = num_samples * order
    seed_index = torch.arange(seeds.numel(), device=csr.device).repeat_interleave(pairs_per_seed)
    if not coalesce:
        weight = torch.full(
            (node_ids.numel(),),
            1.0 / num_samples,
            dtype=torch.get_default_dtype(),
            device=csr.device,
        )
        return Positives(seed_index, node_ids, weight)

    pair_key = seed_index * csr.num_nodes + node_ids
    unique_keys, multiplicity = torch.unique(pair_key, return_counts=True)
    # Counts divided once, rather than summed weights, keep the result exact and
    # independent of the summation order.
    weight = multiplicity.to(torch.get_default_dtype()) / num_samples
    return Positives(unique_keys // csr.num_nodes, unique_keys % csr.num_nodes, weight)
