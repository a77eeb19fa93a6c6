r"""Global-attention variants for the GPS graph transformer: SLAB, convolved Q/K/V,
mixture-of-depths routing and token merging.

Every module here has the call signature of the attention inside
:class:`graphclust.nn.graph_transformer.GPSLayer`: ``forward(h, batch, edge_index)``
with node states ``h`` of shape ``(N, C)``, ``batch`` the graph of each row (``None``
for one graph) and the edges ``edge_index`` (``(2, E)``, messages from ``edge_index[0]``
to ``edge_index[1]``). Attention never crosses graphs of a batch. Factories that build
them per layer live in :mod:`graphclust.extras.transformer_config`.

Sequence models use a 1-D depth-wise convolution for local mixing; on a graph the
neighbourhood of a node is its window, so "one depth-wise convolution" becomes one hop
of per-channel neighbour mixing with the mean over in-neighbours

.. math:: \bar x_i = \frac{1}{\max(1, |\mathcal N(i)|)} \sum_{j \in \mathcal N(i)} x_j .

* :class:`SimplifiedLinearAttention` (Guo et al., "SLAB: Efficient Transformers with
  Simplified Linear Attention and Progressive Re-parameterized Batch Normalization", ICML
  2024): linear attention with a ReLU kernel plus a depth-wise convolution of the values,

  .. math::

      \mathrm{Attn}(h)_i = W_O\Big[\frac{\mathrm{ReLU}(q_i)^\top \sum_{j \in g(i)}
      \mathrm{ReLU}(k_j) v_j^\top}{\mathrm{ReLU}(q_i)^\top \sum_{j \in g(i)}
      \mathrm{ReLU}(k_j)} + w \odot \bar v_i\Big],

  with a learned per-channel :math:`w`. Time and memory are linear in :math:`N`.
* :class:`ConvolvedQKVAttention` (Primer, So et al. 2021: a depth-wise convolution after
  each of the Q/K/V projections; RCMHA, 2023, likewise): after the projections,
  :math:`q_i \leftarrow a_q \odot q_i + b_q \odot \bar q_i` (same for :math:`k, v`) with
  per-channel :math:`a = 1`, :math:`b = 0` at initialisation, so training starts from the
  plain attention; then Performer or softmax attention (:mod:`graphclust.nn.attention`).
* :class:`MixtureOfDepthsAttention` (Raposo et al. 2024, "Mixture-of-Depths"; gamma-MoD,
  Luo et al. 2024; p-MoD, Zhang et al. 2024): a linear router scores every node
  :math:`r_i = w_r^\top h_i`; in each graph the :math:`\lceil c\,n_g \rceil` highest-scoring
  nodes attend to each other and receive :math:`\sigma(r_i)\,\mathrm{Attn}(h_S)_i`, the
  others receive 0 (they skip the sublayer through the residual). The gate
  :math:`\sigma(r_i)` on the update is what gives the router a gradient. p-MoD's
  decaying capacity :math:`c_l` across layers is set by the factory.
* :class:`TokenMergingAttention` (Bolya et al., "Token Merging: Your ViT but Faster",
  ICLR 2023; AIM, Zhong et al. 2024, merging before the attention of a multimodal model):
  :func:`merge_groups` pairs near-duplicate nodes by bipartite soft matching on the
  cosine similarity of their keys and merges ``r`` of them; attention runs over the
  ``N - r`` merged nodes (means of their members) and every member receives the result
  of its merged node ("unmerging" by copying).
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from graphclust._checks import check_edge_index, check_integer, check_positive_real
from graphclust.nn.attention import _Projections, make_attention

__all__ = [
    "ConvolvedQKVAttention",
    "MixtureOfDepthsAttention",
    "NeighbourMix",
    "SimplifiedLinearAttention",
    "TokenMergingAttention",
    "merge_groups",
    "neighbour_mean",
    "route_top_capacity",
]


def neighbour_mean(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the in-neighbours of each row (0 for a row without any).

    ``x`` has shape ``(N, ...)``; the result has the same shape.
    """
    check_edge_index(edge_index, x.shape[0])  # a -1 had wrapped to the last row
    source, target = edge_index
    summed = torch.zeros_like(x).index_add_(0, target, x[source])
    # Counted as integers: ones added in bfloat16 stop at 256 (256 + 1 rounds to 256), so
    # a node of 1000 in-neighbours had its sum divided by 256.
    degree = torch.bincount(target, minlength=x.shape[0]).clamp_min(1)
    return summed / degree.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))


def _check_edges(edge_index: torch.Tensor | None, who: str) -> torch.Tensor:
    if edge_index is None:
        raise ValueError(f"{who} mixes neighbours and needs edge_index, got None")
    return edge_index


class NeighbourMix(nn.Module):
    r""":math:`x_i \mapsto a \odot x_i + b \odot \bar x_i`: one hop of per-channel mixing.

    The graph analogue of a depth-wise convolution with window "node and neighbours".
    ``a`` starts at 1 and ``b`` at 0: the identity.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.self_weight = nn.Parameter(torch.ones(channels))
        self.neighbour_weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.self_weight * x + self.neighbour_weight * neighbour_mean(x, edge_index)


def _sum_per_graph(values: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
    """Sum of ``values`` (``(N, ...)``) over the rows of each graph: ``(num_graphs, ...)``."""
    num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    return values.new_zeros(num_graphs, *values.shape[1:]).index_add_(0, batch, values)


class SimplifiedLinearAttention(nn.Module):
    """SLAB's ReLU-kernel linear attention plus neighbour-mixed values (module docstring).

    Parameters
    ----------
    channels, heads : int
    eps : float
        Floor of the normaliser (a query whose ReLU features miss every key gets 0).
    """

    def __init__(self, channels: int, heads: int = 4, eps: float = 1e-6) -> None:
        super().__init__()
        self.projections = _Projections(channels, heads)
        self.value_mix = nn.Parameter(torch.ones(heads, channels // heads))
        # A floor of 0 or below lets a query that misses every key divide 0 by 0.
        self.eps = check_positive_real("eps", eps)

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None,
                edge_index: torch.Tensor | None = None) -> torch.Tensor:
        edge_index = _check_edges(edge_index, "SimplifiedLinearAttention")
        q, k, v = self.projections.split(h)
        phi_q, phi_k = torch.relu(q), torch.relu(k)  # (N, heads, d)
        if batch is None:  # one graph: no per-node outer products are materialised
            kv = torch.einsum("nhe,nhd->hed", phi_k, v)
            numerator = torch.einsum("nhe,hed->nhd", phi_q, kv)
            denominator = torch.einsum("nhe,he->nh", phi_q, phi_k.sum(0))
        else:
            kv = _sum_per_graph(torch.einsum("nhe,nhd->nhed", phi_k, v), batch)
            numerator = torch.einsum("nhe,nhed->nhd", phi_q, kv[batch])
            denominator = torch.einsum("nhe,nhe->nh", phi_q, _sum_per_graph(phi_k, batch)[batch])
        attended = numerator / denominator.clamp_min(self.eps)[..., None]
        return self.projections.merge(attended + self.value_mix * neighbour_mean(v, edge_index))


class _MixedQKV(nn.Module):
    """The packed Q/K/V projection followed by :class:`NeighbourMix` on the graph of the
    current call (set by :class:`ConvolvedQKVAttention` around the inner attention)."""

    def __init__(self, projection: nn.Linear) -> None:
        super().__init__()
        self.projection = projection
        self.mix = NeighbourMix(projection.out_features)
        self.edge_index: torch.Tensor | None = None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.edge_index is None:
            raise RuntimeError("_MixedQKV is called by ConvolvedQKVAttention only")
        return self.mix(self.projection(h), self.edge_index)


class ConvolvedQKVAttention(nn.Module):
    """Performer or softmax attention whose Q/K/V are neighbour-mixed (module docstring).

    Parameters
    ----------
    channels, heads : int
    kind : {"performer", "full"}
        The attention run on the mixed Q/K/V.
    num_features, max_full_nodes : int
        As in :func:`graphclust.nn.attention.make_attention`.
    """

    def __init__(self, channels: int, heads: int = 4, kind: str = "performer",
                 num_features: int = 64, max_full_nodes: int = 5000) -> None:
        super().__init__()
        self.inner = make_attention(kind, channels, heads, max_full_nodes, num_features)
        # The inner attention's projection is wrapped, not copied: its attention code runs
        # unchanged on the mixed Q/K/V.
        self.inner.projections.qkv = _MixedQKV(self.inner.projections.qkv)

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None,
                edge_index: torch.Tensor | None = None) -> torch.Tensor:
        mixed = self.inner.projections.qkv
        mixed.edge_index = _check_edges(edge_index, "ConvolvedQKVAttention")
        try:
            return self.inner(h, batch)
        finally:
            mixed.edge_index = None


def _check_fraction(name: str, value, low: float, high: float, low_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not (low < value if low_open else low <= value) or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")
    return value


def route_top_capacity(scores: torch.Tensor, capacity: float,
                       batch: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask of the :math:`\\lceil c\\,n_g \\rceil` highest ``scores`` of each graph.

    Ties go to the lower row index.
    """
    capacity = _check_fraction("capacity", capacity, 0.0, 1.0, low_open=True)
    n = scores.shape[0]
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long, device=scores.device)
    order = torch.argsort(scores, descending=True, stable=True)
    order = order[torch.argsort(batch[order], stable=True)]  # by graph, best first in each
    counts = torch.bincount(batch, minlength=1)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n, device=scores.device) - starts[batch[order]]
    # Rounded first: 0.14 * 50 is 7.000000000000001 in floating point, whose ceiling is 8.
    keep = torch.ceil(torch.round(counts.to(torch.float64) * capacity, decimals=9)).long()
    return rank < keep[batch]


class MixtureOfDepthsAttention(nn.Module):
    """Attention over the routed top ``capacity`` of each graph's nodes (module docstring).

    Parameters
    ----------
    channels, heads : int
    capacity : float in (0, 1]
        Fraction of each graph's nodes that pass through attention (rounded up).
    kind, num_features, max_full_nodes
        The inner attention (:func:`graphclust.nn.attention.make_attention`).
    """

    def __init__(self, channels: int, heads: int = 4, capacity: float = 0.5,
                 kind: str = "performer", num_features: int = 64,
                 max_full_nodes: int = 5000) -> None:
        super().__init__()
        self.capacity = _check_fraction("capacity", capacity, 0.0, 1.0, low_open=True)
        self.router = nn.Linear(channels, 1)
        self.inner = make_attention(kind, channels, heads, max_full_nodes, num_features)

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None,
                edge_index: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.router(h).squeeze(-1)
        selected = route_top_capacity(scores.detach(), self.capacity, batch)
        rows = selected.nonzero().squeeze(-1)
        inner_batch = None if batch is None else batch[rows]
        update = torch.sigmoid(scores[rows])[:, None] * self.inner(h[rows], inner_batch)
        return h.new_zeros(h.shape).index_copy(0, rows, update)

    def extra_repr(self) -> str:
        return f"capacity={self.capacity:g}"


def merge_groups(keys: torch.Tensor, num_merges: int, batch: torch.Tensor | None = None,
                 chunk_size: int = 4096, *, clip: bool = False) -> torch.Tensor:
    """Merged-node index of every row after ``num_merges`` bipartite soft matches (ToMe).

    Rows alternate between a set :math:`A` (even rows) and :math:`B` (odd rows). Each
    :math:`a \\in A` finds its most cosine-similar key in :math:`B` of the same graph; the
    ``num_merges`` most similar pairs merge :math:`a` into its partner (several may join
    the same one). Merged nodes are numbered in the order of their first row, so with
    ``num_merges=0`` the result is ``arange(N)``.

    Parameters
    ----------
    keys : Tensor of shape (N, C)
    num_merges : int
        At most the number of even rows with a partner in their graph.
    batch : Tensor of shape (N,), optional
    chunk_size : int
        Rows of :math:`A` compared at once (memory ``chunk_size * N / 2``).
    clip : bool
        Merge at most the even rows with a partner instead of refusing a larger
        ``num_merges`` (ToMe caps its ``r`` at the size of :math:`A` likewise).

    Returns
    -------
    Tensor of shape (N,), values in ``0 .. N - num_merges - 1``.
    """
    num_merges = check_integer("num_merges", num_merges, 0)
    chunk_size = check_integer("chunk_size", chunk_size, 1)
    n = keys.shape[0]
    device = keys.device
    rows = torch.arange(n, device=device)
    a_rows, b_rows = rows[0::2], rows[1::2]  # arange(1, n, 2) had refused n = 0
    normed = nn.functional.normalize(keys.detach(), dim=-1)
    best_similarity = torch.full((a_rows.numel(),), -math.inf, device=device)
    best_partner = torch.zeros(a_rows.numel(), dtype=torch.long, device=device)
    for start in range(0, a_rows.numel(), chunk_size):  # bounded memory, not a node loop
        chunk = a_rows[start:start + chunk_size]
        similarity = normed[chunk] @ normed[b_rows].T
        if batch is not None:
            similarity = similarity.masked_fill(batch[chunk][:, None] != batch[b_rows][None],
                                                -math.inf)
        if b_rows.numel():
            best_similarity[start:start + chunk.numel()], best_partner[
                start:start + chunk.numel()] = similarity.max(1)
    mergeable = int(torch.isfinite(best_similarity).sum())
    if num_merges > mergeable and clip:
        num_merges = mergeable
    elif num_merges > mergeable:
        raise ValueError(f"num_merges={num_merges} exceeds the {mergeable} even rows with a "
                         "partner in their graph")
    merged_a = torch.topk(best_similarity, num_merges).indices
    target = torch.arange(n, device=device)
    target[a_rows[merged_a]] = b_rows[best_partner[merged_a]]
    kept = torch.ones(n, dtype=torch.bool, device=device)
    kept[a_rows[merged_a]] = False
    new_index = torch.cumsum(kept.long(), 0) - 1
    return new_index[target]


class TokenMergingAttention(nn.Module):
    """Attention over merged near-duplicate nodes, copied back to members (module docstring).

    Parameters
    ----------
    channels, heads : int
    merge_ratio : float in [0, 0.5]
        ``r = floor(merge_ratio * N)`` merges per call (bipartite matching can merge at
        most half the nodes), fewer where the matching has fewer pairs: in a batch, an
        even row whose graph has no odd row (a graph of one node) has no partner.
    kind, num_features, max_full_nodes
        The inner attention (:func:`graphclust.nn.attention.make_attention`).

    Notes
    -----
    Merged nodes are plain means of their members and attention does not weight them by
    size (ToMe's proportional attention adds :math:`\\log s` to softmax logits, which
    Performer's kernel features do not expose). Matching compares the even with the odd
    rows: cost :math:`O(N^2 C / 4)` time and ``chunk_size * N / 2`` memory.
    """

    def __init__(self, channels: int, heads: int = 4, merge_ratio: float = 0.1,
                 kind: str = "performer", num_features: int = 64,
                 max_full_nodes: int = 5000) -> None:
        super().__init__()
        self.merge_ratio = _check_fraction("merge_ratio", merge_ratio, 0.0, 0.5,
                                           low_open=False)
        self.inner = make_attention(kind, channels, heads, max_full_nodes, num_features)

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None,
                edge_index: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            _, keys, _ = self.inner.projections.split(h)
            # Clipped: merge_ratio <= 0.5 bounds r by the pairs of one graph, not of a
            # batch, whose one-node graphs have none; refusing would fail a valid setting.
            # Rounded first: 0.29 * 100 is 28.999999999999996, which int() cut to 28.
            num_merges = math.floor(round(self.merge_ratio * h.shape[0], 9))
            groups = merge_groups(keys.flatten(1), num_merges, batch, clip=True)
        num_merged = int(groups.max()) + 1 if groups.numel() else 0
        sizes = torch.zeros(num_merged, dtype=h.dtype, device=h.device).index_add_(
            0, groups, torch.ones_like(groups, dtype=h.dtype))
        merged = h.new_zeros(num_merged, h.shape[1]).index_add_(0, groups, h) / sizes[:, None]
        merged_batch = None
        if batch is not None:  # members share a graph, so any member's graph will do
            merged_batch = batch.new_zeros(num_merged).index_copy_(0, groups, batch)
        return self.inner(merged, merged_batch)[groups]

    def extra_repr(self) -> str:
        return f"merge_ratio={self.merge_ratio:g}"
