r"""The sampler part: which pairs and which batches the contrastive objective sees.

A sampler is a small frozen dataclass with ``batches(edge_index, num_nodes, seed, rank,
world_size)`` (an iterable of :class:`ContrastiveBatch` with a length of at least one,
iterated anew every epoch: not a one-shot iterator such as a generator) and
``fanouts(num_layers)`` (neighbours per hop around a mini-batch for an encoder that
passes messages). Two are provided:

* :class:`FullGraphSampler`: the whole graph, exact positives :math:`W`;
* :class:`RandomWalkSampler`: seed batches with random-walk positives.

Estimators build one from their flat parameters (``batch_size``, ``num_walks``,
``order``, ``exclude_isolated``, ``fanout``) or take one as ``sampler=``.

A :class:`ContrastiveBatch` names the seeds (the batch's nodes: the clustering loss covers
them), the candidates (nodes the contrastive denominator sums over; seeds come first), the
contrastive anchors (the seeds the contrastive loss averages over) and the positive pairs
with their weights. The training loop encodes ``candidates`` once and never needs to know
which kind of batch it got:

* :class:`FullGraphBatches`: one batch per epoch, anchors = candidates = all nodes, exact
  sparse :math:`W` (:func:`graphclust.objectives.positive_weights`), computed once.
* :class:`SampledBatches`: shuffled seed batches (:class:`graphclust.sampling.NodeBatchPlan`)
  with positives from random walks (:func:`graphclust.sampling.sample_positives`); the
  candidates are the batch plus its positives, so the denominator uses in-batch negatives
  and nothing of size :math:`N \times N` is ever built.

Isolated nodes: :math:`\hat A` gives a node without edges itself as its only positive, so
its contrastive term is pure repulsion from every other node. With
``exclude_isolated=True`` such nodes are not anchors (they stay candidates, i.e.
negatives of the others, and are still clustered); on DBLP, where 36% of the nodes are
isolated, their repulsion otherwise spreads those nodes over the sphere and washes out the
clusters as training goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from graphclust._checks import check_flag, check_integer
from graphclust.objectives.contrastive import POSITIVE_KINDS, positive_weights
from graphclust.sampling.batches import NodeBatchPlan
from graphclust.sampling.csr import CSRGraph
from graphclust.sampling.walks import sample_positives

__all__ = ["EPOCH_BATCHES", "ContrastiveBatch", "FullGraphBatches", "FullGraphSampler",
           "RandomWalkSampler", "SampledBatches", "Sampler", "checked_batches",
           "one_pass"]

#: Batches an epoch of :class:`RandomWalkSampler` at most. 32 batches of the default 1,024
#: seeds cover every graph of the development set, the largest of which (Coauthor CS,
#: 18,333 nodes) takes 18, so their fits are unchanged; above 32,768 nodes an epoch is a
#: sample, and a million-node fit takes the steps of a 32,768-node one instead of 30
#: times as many (benchmarks/results/notes_part3.md, "Epochs of at most 32 batches").
EPOCH_BATCHES = 32


@dataclass(frozen=True)
class ContrastiveBatch:
    seeds: torch.Tensor  # (B,) global node ids
    candidates: torch.Tensor  # (C,) global node ids, seeds first
    anchor_rows: torch.Tensor  # (A,) rows into candidates (all < B) of the contrastive anchors
    positive_anchor: torch.Tensor  # (P,) rows into anchor_rows
    positive_candidate: torch.Tensor  # (P,) rows into candidates
    positive_weight: torch.Tensor  # (P,)
    is_full_graph: bool


def _make_batch(seeds, candidates, seed_index, positive_candidate, weight, degree,
                exclude_isolated: bool, is_full_graph: bool) -> ContrastiveBatch:
    """Drop isolated anchors if asked, renumbering the positives' anchor rows."""
    rows = torch.arange(len(seeds), device=seeds.device)
    if exclude_isolated:
        keep = degree[seeds] > 0
        if not bool(keep.all()):
            new_row = torch.cumsum(keep, 0) - 1
            kept_pair = keep[seed_index]
            rows = rows[keep]
            seed_index = new_row[seed_index[kept_pair]]
            positive_candidate = positive_candidate[kept_pair]
            weight = weight[kept_pair]
    return ContrastiveBatch(seeds, candidates, rows, seed_index, positive_candidate, weight,
                            is_full_graph)


class FullGraphBatches:
    """The whole graph as one batch with exact positive weights."""

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, order: int, kind: str,
                 exclude_isolated: bool = False):
        weights = positive_weights(edge_index, num_nodes, order, kind)
        row, col = weights.indices()
        nodes = torch.arange(num_nodes, device=edge_index.device)
        degree = torch.bincount(edge_index[0], minlength=num_nodes)
        self._batch = _make_batch(nodes, nodes, row, col, weights.values(), degree,
                                  exclude_isolated, True)

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[ContrastiveBatch]:
        yield self._batch


class SampledBatches:
    """Seed batches with random-walk positives (unbiased estimates of the rows of W)."""

    def __init__(
        self,
        edge_index: torch.Tensor,
        num_nodes: int,
        order: int,
        kind: str,
        batch_size: int,
        num_walks: int,
        seed: int,
        exclude_isolated: bool = False,
        rank: int = 0,
        world_size: int = 1,
        max_batches: int | None = None,
    ):
        device = edge_index.device
        self.csr = CSRGraph.from_edge_index(edge_index, num_nodes, device=device)
        # Every process draws the same permutation and takes its own share of it.
        self.plan = NodeBatchPlan(num_nodes, batch_size, shuffle=True, seed=seed % 2**32,
                                  rank=rank, world_size=world_size, device=device,
                                  max_batches=max_batches)
        self.order = order
        self.kind = kind
        self.num_walks = num_walks
        self.exclude_isolated = exclude_isolated
        # Walks differ between processes (their seeds differ anyway).
        self.generator = torch.Generator(device=device).manual_seed(seed + rank)
        # Reused buffer mapping global ids to candidate rows (-1 elsewhere).
        self._row_of = torch.full((num_nodes,), -1, dtype=torch.long, device=device)

    def __len__(self) -> int:
        return len(self.plan)

    def __iter__(self) -> Iterator[ContrastiveBatch]:
        for seeds in self.plan:
            positives = sample_positives(self.csr, seeds, self.order, self.num_walks,
                                         self.kind, generator=self.generator)
            extra = positives.node_ids.unique()
            self._row_of[extra] = 0
            self._row_of[seeds] = -1
            extra = extra[self._row_of[extra] == 0]
            candidates = torch.cat([seeds, extra])
            self._row_of[candidates] = torch.arange(len(candidates), device=seeds.device)
            positive_candidate = self._row_of[positives.node_ids]
            self._row_of[candidates] = -1
            yield _make_batch(seeds, candidates, positives.seed_index, positive_candidate,
                              positives.weight, self.csr.degree, self.exclude_isolated, False)


def _check_positive_settings(sampler) -> None:
    """The settings both samplers share (``exclude_isolated="no"`` had read as True)."""
    check_integer("order", sampler.order, 1)
    if sampler.positives not in POSITIVE_KINDS:
        raise ValueError(f"positives must be one of {POSITIVE_KINDS}, got "
                         f"{sampler.positives!r}")
    check_flag("exclude_isolated", sampler.exclude_isolated)


@dataclass(frozen=True)
class FullGraphSampler:
    """Every node in one batch per epoch, with the exact positive weights.

    Parameters
    ----------
    order : int
        :math:`r`, hops of the positives.
    positives : {"power", "influence"}
        :math:`W = \\hat A^r` (SCGC) or :math:`\\sum_{l \\le r} \\hat A^l` (SCGC*), see
        :func:`graphclust.objectives.positive_weights`.
    exclude_isolated : bool
        Leave nodes without edges out of the contrastive average (they stay negatives).
    """

    order: int = 2
    positives: str = "influence"
    exclude_isolated: bool = True

    def __post_init__(self) -> None:
        _check_positive_settings(self)

    def batches(self, edge_index: torch.Tensor, num_nodes: int, seed: int, rank: int = 0,
                world_size: int = 1) -> FullGraphBatches:
        if world_size > 1:
            raise ValueError("multi-process training shards seed batches across processes: "
                             "set batch_size (or pass a RandomWalkSampler)")
        return FullGraphBatches(edge_index, num_nodes, self.order, self.positives,
                                self.exclude_isolated)

    def fanouts(self, num_layers: int) -> list[int]:
        """A full-graph batch is encoded on the whole graph: nothing is sampled."""
        return []


@dataclass(frozen=True)
class RandomWalkSampler:
    """Shuffled seed batches with random-walk positives (unbiased estimates of W's rows).

    Parameters
    ----------
    batch_size : int
        Seeds per batch (and process). The candidates of a batch are its seeds plus their
        sampled positives, so nothing of size :math:`N \\times N` is built.
    num_walks : int
        Walks per seed estimating its positives.
    order, positives, exclude_isolated
        As in :class:`FullGraphSampler`.
    fanout : int
        Neighbours sampled per hop around a batch for an encoder that passes messages.
    max_batches : int or None
        Batches an epoch at most (per process): on a graph of more than ``max_batches *
        batch_size * world_size`` nodes an epoch is that many batches drawn without
        replacement, not a pass over every node (with ``batch_size="auto"`` halved to 512,
        above 16,384 nodes in one process). The joint stage takes ``lr / k`` a step for
        an epoch of k steps, so above this size a fit's steps and rate no longer grow with
        the graph; only its whole-graph passes (targets, stopping checks) do. ``None``:
        every node an epoch.
    """

    batch_size: int
    num_walks: int = 4
    order: int = 2
    positives: str = "influence"
    exclude_isolated: bool = True
    fanout: int = 10
    max_batches: int | None = EPOCH_BATCHES

    def __post_init__(self) -> None:
        _check_positive_settings(self)
        check_integer("batch_size", self.batch_size, 1)
        check_integer("num_walks", self.num_walks, 1)
        check_integer("fanout", self.fanout, 1)
        if self.max_batches is not None:
            check_integer("max_batches", self.max_batches, 1, accepts="None or an integer")

    def batches(self, edge_index: torch.Tensor, num_nodes: int, seed: int, rank: int = 0,
                world_size: int = 1) -> SampledBatches:
        return SampledBatches(edge_index, num_nodes, self.order, self.positives,
                              self.batch_size, self.num_walks, seed, self.exclude_isolated,
                              rank=rank, world_size=world_size, max_batches=self.max_batches)

    def fanouts(self, num_layers: int) -> list[int]:
        return [self.fanout] * num_layers


@runtime_checkable
class Sampler(Protocol):
    """Anything with ``batches(...)`` and ``fanouts(num_layers)`` (module docstring)."""

    def batches(self, edge_index: torch.Tensor, num_nodes: int, seed: int, rank: int = 0,
                world_size: int = 1): ...

    def fanouts(self, num_layers: int) -> list[int]: ...


def checked_batches(batches, sampler):
    """``batches``, which ``sampler.batches(...)`` gave, if the training can go over them
    again and again: an iterable with a length of at least one, not a one-shot iterator (a
    generator had made a start that cycles over its batches loop forever after the
    first pass)."""
    name = type(sampler).__name__
    if iter(batches) is batches:
        raise TypeError(f"{name}.batches() gave an iterator ({type(batches).__name__}), "
                        "which runs out after one pass: give an iterable that yields "
                        "every epoch's batches anew (an object with __iter__ and __len__)")
    if not hasattr(batches, "__len__"):
        raise TypeError(f"{name}.batches() gave {type(batches).__name__}, which has no "
                        "length: the training takes lr / len(batches) a step")
    if len(batches) < 1:
        raise ValueError(f"{name}.batches() gave no batch (a length of {len(batches)})")
    return batches


def one_pass(batches, sampler) -> Iterator[ContrastiveBatch]:
    """The batches of one pass over ``batches``; a pass without any is an error, where
    it had left the start's cycle looping forever and an epoch with no labels."""
    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        raise ValueError(f"{type(sampler).__name__}.batches() gave no batch when iterated "
                         f"(its length says {len(batches)})")
