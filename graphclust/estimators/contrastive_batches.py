"""Batches for the contrastive objective: exact full graph, or sampled mini-batches.

A :class:`ContrastiveBatch` names the anchors (nodes the loss averages over), the
candidates (nodes the denominator sums over; anchors come first) and the positive pairs
with their weights. The training loop encodes ``candidates`` once and never needs to know
which kind of batch it got:

* :class:`FullGraphBatches`: one batch per epoch, anchors = candidates = all nodes, exact
  sparse :math:`W` (:func:`graphclust.objectives.positive_weights`), computed once.
* :class:`SampledBatches`: shuffled seed batches (:class:`graphclust.sampling.NodeBatchPlan`)
  with positives from random walks (:func:`graphclust.sampling.sample_positives`); the
  candidates are the batch plus its positives, so the denominator uses in-batch negatives
  and nothing of size :math:`N \\times N` is ever built.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from graphclust.objectives.contrastive import positive_weights
from graphclust.sampling import CSRGraph, NodeBatchPlan, sample_positives

__all__ = ["ContrastiveBatch", "FullGraphBatches", "SampledBatches"]


@dataclass(frozen=True)
class ContrastiveBatch:
    anchors: torch.Tensor  # (B,) global node ids
    candidates: torch.Tensor  # (C,) global node ids, anchors first
    positive_anchor: torch.Tensor  # (P,) rows into anchors
    positive_candidate: torch.Tensor  # (P,) rows into candidates
    positive_weight: torch.Tensor  # (P,)
    is_full_graph: bool


class FullGraphBatches:
    """The whole graph as one batch with exact positive weights."""

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, order: int, kind: str):
        weights = positive_weights(edge_index, num_nodes, order, kind)
        row, col = weights.indices()
        nodes = torch.arange(num_nodes, device=edge_index.device)
        self._batch = ContrastiveBatch(nodes, nodes, row, col, weights.values(), True)

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
    ):
        device = edge_index.device
        self.csr = CSRGraph.from_edge_index(edge_index, num_nodes, device=device)
        self.plan = NodeBatchPlan(num_nodes, batch_size, shuffle=True, seed=seed % 2**32,
                                  device=device)
        self.order = order
        self.kind = kind
        self.num_walks = num_walks
        self.generator = torch.Generator(device=device).manual_seed(seed)
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
            yield ContrastiveBatch(seeds, candidates, positives.seed_index, positive_candidate,
                                   positives.weight, False)
