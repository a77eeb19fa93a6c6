r"""A label-free stopping signal for the start: the contrastive loss of held-out edges.

A fraction of the undirected edges is set aside before the start; the start trains on the
rest. Every few steps the encoder is scored on the held-out pairs :math:`(i, j)`,

.. math::

    \mathcal L_{\text{held-out}} = \frac{1}{|H|} \sum_{(i, j) \in H}
        \Big(\log \sum_{k \in C,\, k \ne i} \exp(\tau s_{ik}) - \tau s_{ij}\Big),

with :math:`s` the cosine similarities of the embeddings and :math:`C` the candidate nodes
(every node on graphs of up to ``max_candidates`` nodes, else a fixed sample that holds
every held-out partner). While the map learns what the graph and the features share, this
loss falls with the training loss; once it clearly rises the map is fitting the training
edges beyond what carries over to edges it has not seen: the erosion of the start's
clusters that a wide map of sparse features has room for. The estimators' rule
(:mod:`graphclust.starts.held_out_rule`: the loss's rise, :data:`~graphclust.starts.START_EROSION`,
or the rank share's, :data:`~graphclust.starts.START_RANK_EROSION`) then takes the step of
the lowest held-out loss as the start's length.

The start is that first run up to its length, its last quarter retaken on every edge
(:data:`graphclust.starts.START_RETAKE`); the joint stage trains on every edge.

How far the loss can fall is set by :math:`\tau` and the number of clusters :math:`k`
rather than by the graph: from an embedding that tells no node from another (every
:math:`s = 0`, loss :math:`\log (|C| - 1)` for an anchor among the candidates) to one
that puts the nodes in :math:`k` equal
clusters at the corners of a simplex (:math:`s = 1` within a cluster, :math:`-1/(k-1)`
across) and every held-out pair in one cluster, the loss falls, for many candidates, by

.. math::

    \Delta_k = -\log\Big(\frac1k + \big(1 - \frac1k\big)\,
        e^{-\tau k / (k - 1)}\Big)

(0.73 nats for :math:`k = 3`, 0.95 for :math:`k = 15` at :math:`\tau = 1`):
:func:`cluster_code_fall`. The gate of :func:`graphclust.starts.start_gate` measures from
the first check down to that floor (:attr:`HeldOutEdges.uninformative_loss` less
:math:`\Delta_k`): a share of the fall still possible.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["HeldOutEdges", "cluster_code_fall"]


def cluster_code_fall(n_clusters: int, tau: float) -> float:
    r""":math:`\Delta_k` of the module docstring: how far the held-out loss falls from an
    embedding that tells no node apart to one that codes ``n_clusters`` equal clusters,
    at inverse temperature ``tau``."""
    k = int(n_clusters)
    if k < 2:
        raise ValueError(f"n_clusters must be at least 2, got {n_clusters!r}")
    return -math.log(1 / k + (1 - 1 / k) * math.exp(-float(tau) * k / (k - 1)))


#: Held-out edges scored at most (a fixed sample), and the candidates they are scored
#: against on graphs of more nodes: a check's logits are at most ``MAX_PAIRS`` rows of
#: ``MAX_CANDIDATES + MAX_PAIRS`` (:func:`graphclust.memory.estimate_peak_memory`).
MAX_PAIRS = 2048
MAX_CANDIDATES = 8192


class HeldOutEdges:
    """Split the edges once; score embeddings on the held-out ones.

    Parameters
    ----------
    edge_index : torch.Tensor
        Canonical undirected ``(2, E)`` edge list (both directions, no self-loops).
    num_nodes : int
        :math:`N`.
    fraction : float
        Share of the undirected edges held out, in ``(0, 1)``.
    tau : float
        Inverse temperature of the loss (the training loss's).
    generator : torch.Generator
        Draws the split and the samples (same seed, same split on every process).
    max_pairs : int
        At most this many held-out edges are scored (a fixed sample).
    max_candidates : int
        Graphs with more nodes are scored against a fixed sample of this many nodes.

    Attributes
    ----------
    train_edge_index : torch.Tensor
        The edges the start trains on (both directions).
    nodes : torch.Tensor
        The node ids whose embeddings :meth:`loss` reads, in the row order it expects.
    """

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, fraction: float, tau: float,
                 generator: torch.Generator, max_pairs: int = MAX_PAIRS,
                 max_candidates: int = MAX_CANDIDATES) -> None:
        device = edge_index.device
        row, col = edge_index
        upper = row < col
        row, col = row[upper], col[upper]
        order = torch.randperm(len(row), generator=generator, device=device)
        num_held = int(round(fraction * len(row)))
        held, kept = order[:num_held], order[num_held:]
        self.train_edge_index = torch.cat([torch.stack([row[kept], col[kept]]),
                                           torch.stack([col[kept], row[kept]])], 1)
        held = held[:max_pairs]
        anchors, partners = row[held], col[held]
        if num_nodes <= max_candidates:
            candidates = torch.arange(num_nodes, device=device)
        else:
            sample = torch.randperm(num_nodes, generator=generator, device=device)
            candidates = torch.cat([sample[:max_candidates], partners]).unique()
        # One embedding per node read (sorted by node); `position` finds each in it.
        self.nodes = torch.cat([candidates, anchors]).unique()
        position = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
        position[self.nodes] = torch.arange(len(self.nodes), device=device)
        self._candidates = position[candidates]
        self._anchors = position[anchors]
        self._partners = position[partners]
        # Where each anchor sits among the candidates (-1: not a candidate), to drop k = i.
        in_candidates = torch.full((len(self.nodes),), -1, dtype=torch.long, device=device)
        in_candidates[self._candidates] = torch.arange(len(candidates), device=device)
        self._self_column = in_candidates[self._anchors]
        self._partner_column = in_candidates[self._partners]  # every partner is one
        self.tau = float(tau)

    def __len__(self) -> int:
        """Number of held-out pairs scored."""
        return len(self._anchors)

    @property
    def uninformative_loss(self) -> float:
        """The loss of an embedding that tells no node apart (every :math:`s = 0`): each
        pair's log of its anchor's candidates other than itself, averaged."""
        others = len(self._candidates) - (self._self_column >= 0).to(torch.float64)
        return float(torch.log(others).mean())

    @torch.no_grad()
    def loss(self, z: torch.Tensor) -> float:
        """Mean held-out loss of the embeddings ``z`` of :attr:`nodes` (rows aligned)."""
        return self.scores(z)[0]

    @torch.no_grad()
    def scores(self, z: torch.Tensor) -> tuple[float, float]:
        r"""The mean held-out loss of ``z`` (:meth:`loss`) and the held-out partners' mean
        rank share: for each pair, the share of its anchor's other candidates (neither
        the anchor nor the partner) closer to the anchor than the partner is, a tie
        counting half. The rank share does not depend on :math:`\tau` (0: every partner
        nearest; 0.5: no better than chance, as for an embedding that tells no node
        apart)."""
        z = F.normalize(z.float(), dim=1)
        anchors, partners = z[self._anchors], z[self._partners]
        logits = self.tau * anchors @ z[self._candidates].T
        has_self = self._self_column >= 0
        logits[has_self.nonzero().squeeze(1), self._self_column[has_self]] = float("-inf")
        loss = float((torch.logsumexp(logits, dim=1)
                      - self.tau * (anchors * partners).sum(1)).mean())
        # The rank reads the partner's logit off the same product, so that rounding cannot
        # make a duplicate of the partner closer than the partner itself.
        pairs = torch.arange(len(logits), device=logits.device)
        positive = logits[pairs, self._partner_column].clone()
        logits[pairs, self._partner_column] = float("-inf")
        # Closer counts 1 and a tie a half: (the signs of logit - positive, summed, plus
        # the columns) / 2, in place (the self and partner columns, -inf, count farther).
        signs = logits.sub_(positive[:, None]).sign_().sum(1).to(torch.float64)
        closer = (signs + logits.shape[1]) / 2
        others = len(self._candidates) - has_self.to(torch.float64) - 1
        return loss, float((closer / others.clamp(min=1)).mean())
