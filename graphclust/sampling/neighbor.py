"""Uniform neighbour sampling with per-layer fan-outs, vectorised over nodes.

A message-passing encoder with ``L`` layers needs, for a batch of seed nodes, their
``L``-hop computation graph. :func:`sample_neighbors` bounds its size the way
GraphSAGE does: hop ``l`` keeps at most ``fanouts[l]`` neighbours of each node first
reached at hop ``l - 1``, drawn uniformly without replacement.

Everything runs as whole-tensor operations on the device of the :class:`CSRGraph`;
the only Python loops are over layers and over the (small) fan-out positions.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from graphclust._checks import check_flag

from .csr import CSRGraph, _check_generator, _check_node_ids, _random_below

__all__ = ["SampledSubgraph", "sample_neighbors"]


@dataclass(frozen=True)
class SampledSubgraph:
    """Computation graph of a batch of seed nodes, with local node indices.

    Attributes
    ----------
    node_ids : torch.Tensor
        ``int64`` tensor of shape ``(n,)``: global id of each local node. The seeds
        come first, in the order given, then the nodes first reached at hop 1, then
        at hop 2, and so on; within a hop, in order of first sampling.
    edge_index : torch.Tensor
        ``int64`` tensor of shape ``(2, m)`` of local indices. Column ``(s, t)`` is a
        sampled edge along which a message flows from the sampled neighbour ``s``
        (row 0, source) to the node ``t`` that sampled it (row 1, target), the PyG
        ``source_to_target`` convention. Edges are grouped by hop, and within a hop
        by target.
    num_seeds : int
        Number of seeds; ``node_ids[:num_seeds]`` are the seeds.
    layer_sizes : list of int
        Number of nodes first reached at each hop, ``len(fanouts) + 1`` entries
        starting with ``num_seeds``; they sum to ``n``.
    layer_edge_counts : list of int
        Number of edges sampled at each hop, ``len(fanouts)`` entries summing to ``m``.
    """

    node_ids: torch.Tensor
    edge_index: torch.Tensor
    num_seeds: int
    layer_sizes: list[int]
    layer_edge_counts: list[int]

    @property
    def num_nodes(self) -> int:
        """Number of local nodes ``n``."""
        return self.node_ids.numel()


def sample_neighbors(
    csr: CSRGraph,
    seeds: torch.Tensor,
    fanouts: Sequence[int],
    generator: torch.Generator | None = None,
    replace: bool = False,
) -> SampledSubgraph:
    r"""Sample the multi-hop neighbourhood of ``seeds`` with per-layer fan-outs.

    Hop ``l`` (``l = 1..L``) visits the nodes first reached at hop ``l - 1`` (the
    seeds for ``l = 1``). A visited node ``v`` of degree :math:`d_v` keeps

    * all its neighbours when ``fanouts[l-1] == -1`` or :math:`d_v \le f`;
    * otherwise a uniformly random ``f``-subset of its :math:`d_v` CSR entries
      (``replace=False``), or ``f`` entries drawn independently and uniformly
      (``replace=True``; nodes with :math:`d_v > 0` then always get ``f``).

    Without replacement the subsets come from Floyd's algorithm, vectorised over
    nodes: for step :math:`s = 0..f-1` each node draws :math:`t` uniformly from
    :math:`\{0, \dots, d_v - f + s\}` and adds :math:`t`, or :math:`d_v - f + s` when
    :math:`t` was already chosen. Every ``f``-subset is equally likely, and the cost
    is :math:`O(f^2)` per node whatever its degree, so hubs are as cheap as leaves.

    Local ids come from a sort-based relabelling (``torch.unique`` on the nodes so
    far plus the new candidates, then ordering by first occurrence), which needs
    memory proportional to the sample, not to the graph.

    Parameters
    ----------
    csr : CSRGraph
        The graph.
    seeds : torch.Tensor
        Distinct ``int64`` node ids of shape ``(B,)`` on ``csr.device``.
    fanouts : sequence of int
        One fan-out per hop: a positive int, or ``-1`` for all neighbours. An empty
        sequence gives the seeds alone.
    generator : torch.Generator, optional
        Source of randomness, on the device type of ``csr`` (a CUDA generator for a
        CUDA graph). Defaults to torch's global generator for that device.
    replace : bool, default=False
        Draw with replacement.

    Returns
    -------
    SampledSubgraph

    Notes
    -----
    Duplicate entries in the CSR are distinct edges here: a neighbour listed twice
    can be sampled twice.
    """
    if not isinstance(csr, CSRGraph):
        raise TypeError(f"csr must be a CSRGraph, got {type(csr).__name__}.")
    _check_node_ids(seeds, csr, "seeds")
    if isinstance(fanouts, (str, bytes)) or not isinstance(fanouts, Sequence):
        raise TypeError(f"fanouts must be a sequence of ints, got {type(fanouts).__name__}.")
    for fanout in fanouts:
        if isinstance(fanout, bool) or not isinstance(fanout, numbers.Integral):
            raise TypeError(f"fanouts must hold ints, got {fanout!r} in {list(fanouts)}.")
        if fanout <= 0 and fanout != -1:
            raise ValueError(
                f"fanouts must be positive or -1 (all neighbours), got {fanout} in {list(fanouts)}."
            )
    replace = check_flag("replace", replace)
    _check_generator(generator, csr.device)
    if torch.unique(seeds).numel() != seeds.numel():
        raise ValueError("seeds must be distinct node ids.")

    node_ids = seeds
    frontier_start = 0
    layer_sizes = [seeds.numel()]
    layer_edge_counts = []
    sources, targets = [], []
    for fanout in fanouts:
        frontier = node_ids[frontier_start:]
        edge_positions, owner = _sample_edge_positions(csr, frontier, fanout, replace, generator)
        num_known = node_ids.numel()
        node_ids, neighbour_local = _append_new_nodes(
            node_ids, csr.col.index_select(0, edge_positions)
        )
        sources.append(neighbour_local)
        targets.append(owner + frontier_start)
        layer_sizes.append(node_ids.numel() - num_known)
        layer_edge_counts.append(edge_positions.numel())
        frontier_start = num_known

    if sources:
        edge_index = torch.stack([torch.cat(sources), torch.cat(targets)])
    else:
        edge_index = torch.empty((2, 0), dtype=torch.int64, device=csr.device)
    return SampledSubgraph(
        node_ids=node_ids,
        edge_index=edge_index,
        num_seeds=seeds.numel(),
        layer_sizes=layer_sizes,
        layer_edge_counts=layer_edge_counts,
    )


def _sample_edge_positions(
    csr: CSRGraph,
    nodes: torch.Tensor,
    fanout: int,
    replace: bool,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR positions of the sampled entries of ``nodes`` and the index of their owner.

    Entries are grouped by owner, owners in the order of ``nodes``.
    """
    # index_select rather than tensor indexing: same result, markedly faster on CPU.
    start = csr.rowptr.index_select(0, nodes)
    degree = csr.rowptr.index_select(0, nodes + 1) - start
    if fanout == -1:
        count = degree
    elif replace:
        count = torch.where(degree > 0, fanout, 0)
    else:
        count = degree.clamp(max=fanout)
    owner = torch.repeat_interleave(count)
    # Rank of each sampled entry among those of its owner: 0, 1, ..., count - 1.
    first_slot = torch.cumsum(count, dim=0) - count
    slot = torch.arange(owner.numel(), device=nodes.device) - first_slot.index_select(0, owner)

    if fanout == -1:
        offset = slot
    elif replace:
        offset = _random_below(degree.index_select(0, owner), generator)
    else:
        offset = slot
        subsampled = degree > fanout
        # Owners are sorted and each subsampled owner has exactly `fanout` slots, so the
        # row-major flattening of the subsets lines up with the masked slots.
        subsets = _floyd_subsets(degree[subsampled], fanout, generator)
        offset.masked_scatter_(subsampled.index_select(0, owner), subsets)
    return start.index_select(0, owner) + offset, owner


def _floyd_subsets(
    degree: torch.Tensor, size: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Uniform random ``size``-subsets of ``range(degree[k])`` for every ``degree[k] > size``.

    Returns an ``int64`` tensor of shape ``(len(degree), size)`` with distinct entries
    in each row (Floyd's algorithm, one vectorised step per subset element).
    """
    chosen = torch.empty((degree.numel(), size), dtype=torch.int64, device=degree.device)
    for step in range(size):
        largest = degree - size + step
        candidate = _random_below(largest + 1, generator)
        taken = (chosen[:, :step] == candidate.unsqueeze(1)).any(dim=1)
        chosen[:, step] = torch.where(taken, largest, candidate)
    return chosen


def _append_new_nodes(
    node_ids: torch.Tensor, candidates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Extend distinct ``node_ids`` with the unseen ``candidates``; return local ids.

    The result keeps ``node_ids`` as its prefix and appends new nodes in order of first
    occurrence in ``candidates``; the second output maps each candidate to its index
    in the result.
    """
    combined = torch.cat([node_ids, candidates])
    unique_ids, inverse = torch.unique(combined, return_inverse=True)
    position = torch.arange(combined.numel(), device=combined.device)
    first_position = torch.full_like(unique_ids, combined.numel()).scatter_reduce_(
        0, inverse, position, reduce="amin"
    )
    order = torch.argsort(first_position)
    local_id = torch.empty_like(order).scatter_(
        0, order, torch.arange(order.numel(), device=order.device)
    )
    candidate_local = local_id.index_select(0, inverse[node_ids.numel() :])
    return unique_ids.index_select(0, order), candidate_local
