r"""SCGC's neighbour-contrastive loss and SCGC*'s influence-augmented variant (IAC).

With :math:`\hat A = \tilde D^{-1}(A + I)` (self-loops added, rows normalised) the positive
weights of node :math:`i` are row :math:`i` of

.. math::

    W = \hat A^r \quad \text{(SCGC)}, \qquad
    W = \sum_{l=1}^{r} \hat A^l \quad \text{(SCGC*, influence)}.

With cosine similarities :math:`s_{ij}` of the embeddings, the diagonal set to zero
(:math:`s_{ii} = 0`; kept in the sums, not removed), and :math:`\tau` an *inverse*
temperature,

.. math::

    \mathcal L_{NC} = -\frac{1}{N} \sum_i \log
        \frac{\sum_j W_{ij} \exp(\tau s_{ij})}{\sum_k \exp(\tau s_{ik})}.

The same function serves full-batch training (anchors = candidates = all nodes, exact
:math:`W`) and mini-batch training (anchors = a batch, candidates = the batch plus its
sampled positives, :math:`W` estimated by random walks, see
:mod:`graphclust.sampling.walks`).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

__all__ = ["normalized_adjacency", "positive_weights", "neighbor_contrastive_loss"]

_KINDS = ("power", "influence")


def normalized_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""Sparse :math:`\hat A = \tilde D^{-1}(A + I)` as a coalesced COO tensor.

    ``edge_index`` lists each undirected edge in both directions, without self-loops
    (the canonical form of :func:`graphclust.data.to_graph`).
    """
    device = edge_index.device
    loops = torch.arange(num_nodes, device=device)
    row = torch.cat([edge_index[0], loops])
    col = torch.cat([edge_index[1], loops])
    degree = torch.bincount(row, minlength=num_nodes).to(torch.float32)
    values = degree.reciprocal()[row]
    return torch.sparse_coo_tensor(
        torch.stack([row, col]), values, (num_nodes, num_nodes), check_invariants=False
    ).coalesce()


def positive_weights(
    edge_index: torch.Tensor, num_nodes: int, order: int, kind: str = "power"
) -> torch.Tensor:
    r"""Exact sparse positive weights :math:`W` for full-batch training.

    Parameters
    ----------
    edge_index : torch.Tensor
        Canonical undirected ``(2, E)`` edge list.
    num_nodes : int
        :math:`N`.
    order : int
        :math:`r \ge 1`, the number of hops.
    kind : {"power", "influence"}
        ``"power"``: :math:`\hat A^r` (SCGC); ``"influence"``: :math:`\sum_{l \le r} \hat A^l`
        (SCGC*).

    Returns
    -------
    torch.Tensor
        Coalesced sparse COO ``(N, N)`` tensor. Its density grows with :math:`r`; for
        large graphs use mini-batch training, which samples :math:`W` instead.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown positive kind {kind!r}; choose one of {_KINDS}")
    if int(order) != order or order < 1:
        raise ValueError(f"order (the number of hops r) must be an integer >= 1, got {order!r}")
    a_hat = normalized_adjacency(edge_index, num_nodes)
    power = a_hat
    total = a_hat
    with warnings.catch_warnings():
        # torch labels its sparse-sparse product "beta"; the result is checked in tests.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        for _ in range(int(order) - 1):
            power = torch.sparse.mm(power, a_hat).coalesce()
            total = (total + power).coalesce() if kind == "influence" else power
    return total


def neighbor_contrastive_loss(
    anchors: torch.Tensor,
    candidates: torch.Tensor,
    positive_anchor: torch.Tensor,
    positive_candidate: torch.Tensor,
    positive_weight: torch.Tensor,
    tau: float,
    self_candidate: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Mean neighbour-contrastive loss over the anchors.

    Parameters
    ----------
    anchors : torch.Tensor
        ``(B, D)`` embeddings of the nodes the loss is averaged over.
    candidates : torch.Tensor
        ``(C, D)`` embeddings the denominator sums over (all nodes in full batch).
    positive_anchor, positive_candidate, positive_weight : torch.Tensor
        Flat ``(P,)`` tensors: the positive pairs (row into ``anchors``, row into
        ``candidates``) and their weights :math:`W_{ij}`. Every anchor needs at least one
        positive (:math:`\hat A` has self-loops, so exact and sampled :math:`W` do).
    tau : float
        Inverse temperature :math:`\tau > 0` multiplying the similarities.
    self_candidate : torch.Tensor, optional
        ``(B,)`` row of each anchor among the candidates (``-1`` if absent). Those
        similarities are set to zero, as SCGC zeroes the diagonal. ``None`` means the
        anchors are the first ``B`` candidates (full batch: anchors = candidates).

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    num_anchors = anchors.shape[0]
    a = F.normalize(anchors, dim=1)
    c = F.normalize(candidates, dim=1)
    logits = tau * (a @ c.T)
    if self_candidate is None:
        self_candidate = torch.arange(num_anchors, device=anchors.device)
    present = (self_candidate >= 0).nonzero().squeeze(1)
    # In place: the product's backward does not need its output, so this is safe and
    # avoids a second (B, C) buffer.
    logits.index_put_((present, self_candidate[present]), logits.new_zeros(()))
    log_denominator = torch.logsumexp(logits, dim=1)
    # log sum_j W_ij exp(tau s_ij) as a weighted log-sum-exp per anchor, shifted by the
    # anchor's largest positive logit so that no tau overflows or underflows.
    pair_logits = logits[positive_anchor, positive_candidate]
    shift = torch.full((num_anchors,), -torch.inf, dtype=logits.dtype, device=logits.device)
    shift = shift.scatter_reduce(0, positive_anchor, pair_logits.detach(), "amax")
    terms = positive_weight.to(logits.dtype) * torch.exp(pair_logits - shift[positive_anchor])
    numerator = torch.zeros_like(shift).index_add(0, positive_anchor, terms)
    log_numerator = torch.log(numerator) + shift
    return (log_denominator - log_numerator).mean()
