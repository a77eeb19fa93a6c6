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

from graphclust._checks import check_edge_index, check_integer

__all__ = ["POSITIVE_KINDS", "normalized_adjacency", "positive_weights",
           "neighbor_contrastive_loss"]

#: The positive weights :math:`W`: :math:`\hat A^r` or :math:`\sum_{l \le r} \hat A^l`.
POSITIVE_KINDS = ("power", "influence")


def normalized_adjacency(
    edge_index: torch.Tensor,
    num_nodes: int,
    symmetric: bool = False,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Sparse normalised adjacency with self-loops, as a coalesced COO tensor.

    ``symmetric=False``: :math:`\hat A = \tilde D^{-1}(A + I)` (row-stochastic, SCGC's
    positives); ``symmetric=True``: :math:`\tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (GCN/SGC
    propagation). ``edge_index`` lists each undirected edge in both directions, without
    self-loops (the canonical form of :func:`graphclust.data.to_graph`).
    """
    check_edge_index(edge_index, num_nodes)
    loops = torch.arange(num_nodes, device=edge_index.device)
    row = torch.cat([edge_index[0], loops])
    col = torch.cat([edge_index[1], loops])
    degree = torch.bincount(row, minlength=num_nodes).to(dtype)
    if symmetric:
        inv_sqrt = degree.rsqrt()
        values = inv_sqrt[row] * inv_sqrt[col]
    else:
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
    if kind not in POSITIVE_KINDS:
        raise ValueError(f"unknown positive kind {kind!r}; choose one of {POSITIVE_KINDS}")
    order = check_integer("order (the number of hops r)", order, 1)
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
    chunk_size: int = 512,
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
        ``candidates``) and their weights :math:`W_{ij} \ge 0`. Every anchor needs a
        positive of weight > 0 (:math:`\hat A` has self-loops, so exact and sampled
        :math:`W` do); without one the loss raises ``ValueError``.
    tau : float
        Inverse temperature :math:`\tau > 0` multiplying the similarities.
    self_candidate : torch.Tensor, optional
        ``(B,)`` row of each anchor among the candidates (``-1`` if absent). Those
        similarities are set to zero, as SCGC zeroes the diagonal. ``None`` means the
        anchors are the first ``B`` candidates (full batch: anchors = candidates).
    chunk_size : int
        Anchor rows processed at a time; memory is :math:`O(\text{chunk} \cdot C)`.

    Returns
    -------
    torch.Tensor
        Scalar loss, differentiable with respect to ``anchors`` and ``candidates``.

    Notes
    -----
    With :math:`L_{ik} = \tau s_{ik}` and :math:`\pi_{ik} = \mathrm{softmax}_k(L_i)`, the
    gradient is :math:`\partial \mathcal L / \partial L_{ik} = (\pi_{ik} - \rho_{ik}) / B`,
    where :math:`\rho_{ik} = W_{ik} e^{L_{ik}} / \sum_j W_{ij} e^{L_{ij}}` is non-zero only
    on positives. The loss and this gradient are computed together, chunk by chunk, in a
    few passes over each :math:`(\text{chunk} \times C)` block; autograd through the same
    formula would keep about ten :math:`B \times C` temporaries and run several times
    slower on a CPU.
    """
    if not 0 < tau < float("inf"):  # tau <= 0 would reward pushing the positives away
        raise ValueError(f"tau must be finite and > 0, got {tau!r}")
    if not (positive_anchor.dim() == 1
            and positive_anchor.shape == positive_candidate.shape == positive_weight.shape):
        raise ValueError(
            "positive_anchor, positive_candidate and positive_weight must be flat tensors of "
            f"one length, got shapes {tuple(positive_anchor.shape)}, "
            f"{tuple(positive_candidate.shape)} and {tuple(positive_weight.shape)}")
    num_anchors, num_candidates = anchors.shape[0], candidates.shape[0]
    chunk_size = check_integer("chunk_size", chunk_size, 1)
    if num_anchors == 0:
        raise ValueError("neighbor_contrastive_loss needs at least one anchor")
    if self_candidate is None:
        if num_anchors > num_candidates:
            raise ValueError(f"without self_candidate the anchors are the first rows of the "
                             f"candidates, but there are {num_anchors} anchors and "
                             f"{num_candidates} candidates")
        self_candidate = torch.arange(num_anchors, device=anchors.device)
    elif self_candidate.shape != (num_anchors,) or not (
            -1 <= int(self_candidate.min()) <= int(self_candidate.max()) < num_candidates):
        # A short one had left the last anchors' own similarities in the loss.
        raise ValueError(f"self_candidate must give each of the {num_anchors} anchors its "
                         f"row among the {num_candidates} candidates, or -1")
    a = F.normalize(anchors, dim=1)
    c = F.normalize(candidates, dim=1)
    return _NeighborContrastive.apply(
        a, c, positive_anchor, positive_candidate, positive_weight.to(a.dtype), float(tau),
        self_candidate, chunk_size,
    )


def _check_sorted_positives(num_anchors, num_candidates, positive_anchor, positive_candidate,
                            positive_weight) -> None:
    """Refuse pairs the loss would drop or misread; ``positive_anchor`` is sorted.

    A row index past the anchors would be dropped without a word, a negative candidate
    index would wrap to the last rows, and a negative or NaN weight has no logarithm. Each
    check is one pass over the pairs at most, beside the loss's passes over every
    ``(chunk x C)`` block.
    """
    if positive_anchor.numel() == 0:
        return
    first, last = int(positive_anchor[0]), int(positive_anchor[-1])
    if first < 0 or last >= num_anchors:
        raise ValueError(f"positive_anchor must index rows 0..{num_anchors - 1}, got values "
                         f"from {first} to {last}")
    low, high = (int(v) for v in torch.aminmax(positive_candidate))
    if low < 0 or high >= num_candidates:
        raise ValueError(f"positive_candidate must index rows 0..{num_candidates - 1}, got "
                         f"values from {low} to {high}")
    if not bool(positive_weight.min() >= 0):
        raise ValueError("positive_weight must be >= 0 and not NaN")


# Below this inverse temperature exp(tau * s - tau) cannot underflow in float32 for
# s in [-1, 1] (e^-80 > 1e-38), so no per-row maximum is needed.
_FIXED_SHIFT_LIMIT = 40.0


class _NeighborContrastive(torch.autograd.Function):
    """Loss and analytic gradient of the neighbour-contrastive loss on unit vectors."""

    @staticmethod
    def forward(ctx, a, c, positive_anchor, positive_candidate, positive_weight, tau,
                self_candidate, chunk_size):
        num_anchors = a.shape[0]
        if positive_anchor.numel() > 1 and bool((positive_anchor[1:] < positive_anchor[:-1]).any()):
            order = torch.argsort(positive_anchor, stable=True)
            positive_anchor = positive_anchor[order]
            positive_candidate = positive_candidate[order]
            positive_weight = positive_weight[order]
        _check_sorted_positives(num_anchors, c.shape[0], positive_anchor, positive_candidate,
                                positive_weight)
        bounds = torch.arange(0, num_anchors + chunk_size, chunk_size, device=a.device)
        pair_bounds = torch.searchsorted(positive_anchor, bounds.clamp_max(num_anchors)).tolist()
        scaled = a * tau
        log_ratio = torch.empty(num_anchors, dtype=a.dtype, device=a.device)
        grad_a = torch.empty_like(a)
        grad_c = torch.zeros_like(c)
        # One block buffer for every chunk: a fresh (chunk x C) tensor per chunk is a fresh
        # large allocation, whose pages the system zeroes again each time (a third of a
        # step's time on a CPU, benchmarks/results/notes.md).
        buffer = torch.empty(min(chunk_size, num_anchors), c.shape[0], dtype=a.dtype,
                             device=a.device)
        for chunk, start in enumerate(range(0, num_anchors, chunk_size)):
            stop = min(start + chunk_size, num_anchors)
            pairs = slice(pair_bounds[chunk], pair_bounds[chunk + 1])
            rows = positive_anchor[pairs] - start
            cols = positive_candidate[pairs]
            block = torch.mm(scaled[start:stop], c.T, out=buffer[:stop - start])  # tau s_ik
            own = self_candidate[start:stop]
            present = (own >= 0).nonzero().squeeze(1)
            block[present, own[present]] = 0.0

            # Numerator log sum_j W_ij exp(L_ij): a weighted log-sum-exp per anchor over its
            # positives, read from the block (scalars, not embedding rows).
            pair_logits = block[rows, cols]
            top = torch.full((stop - start,), -torch.inf, dtype=a.dtype, device=a.device)
            top = top.scatter_reduce(0, rows, pair_logits, "amax")
            terms = positive_weight[pairs] * torch.exp(pair_logits - top[rows])
            numerator = torch.zeros_like(top).index_add_(0, rows, terms)

            if tau <= _FIXED_SHIFT_LIMIT:
                shift = torch.full((stop - start, 1), tau, dtype=a.dtype, device=a.device)
            else:
                shift = block.max(1, keepdim=True).values
            block.sub_(shift).exp_()
            row_sum = block.sum(1, keepdim=True)
            log_ratio[start:stop] = (row_sum.log() + shift).squeeze(1) - numerator.log() - top

            # d loss / d L_ik (times B): softmax pi_ik minus rho_ik on the positives.
            block.div_(row_sum)
            rho = terms / numerator[rows]
            block.index_put_((rows, cols), -rho, accumulate=True)
            block[present, own[present]] = 0.0  # s_ii is a constant: no gradient
            torch.mm(block, c, out=grad_a[start:stop])
            grad_c.addmm_(block.T, a[start:stop])

        # A numerator of zero (no positive of weight > 0) is the only way to an infinite
        # ratio: the denominator's terms are at most 1 after the shift.
        unscored = torch.isposinf(log_ratio).nonzero().squeeze(1)
        if unscored.numel():
            raise ValueError(
                f"{unscored.numel()} anchor(s) have no positive of weight > 0 (the first: row "
                f"{int(unscored[0])}); every anchor needs one, or its loss is infinite")
        factor = tau / num_anchors
        ctx.save_for_backward(grad_a.mul_(factor), grad_c.mul_(factor))
        return log_ratio.mean()

    @staticmethod
    def backward(ctx, grad_output):
        grad_a, grad_c = ctx.saved_tensors
        return grad_output * grad_a, grad_output * grad_c, None, None, None, None, None, None
