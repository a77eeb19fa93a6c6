r"""Global attention over the nodes of each graph: Performer (linear) and full softmax.

Both take node states ``h`` of shape ``(N, C)`` and a ``batch`` vector (graph of each row;
``None`` for one graph) and let each node attend to every node of its own graph with
``heads`` heads of width ``C / heads``:

.. math::

    \mathrm{Attn}(h)_i = W_O \big[\textstyle\sum_{j \in g(i)} a_{ij} v_j\big]_{\text{heads}},
    \qquad a_{ij} = \frac{\kappa(q_i, k_j)}{\sum_{j' \in g(i)} \kappa(q_i, k_{j'})},

with :math:`q, k, v` linear maps of :math:`h` and :math:`\kappa(q, k) = \exp(q^\top k /
\sqrt{d})`.

* :class:`FullAttention` computes :math:`\kappa` exactly: :math:`O(N^2)` memory, so it
  refuses graphs above ``max_nodes`` nodes.
* :class:`PerformerAttention` (Choromanski et al., "Rethinking Attention with Performers",
  ICLR 2021, FAVOR+) replaces :math:`\kappa` by :math:`\phi(q)^\top\phi(k)` with positive
  orthogonal random features
  :math:`\phi(x) = m^{-1/2}\exp(\omega^\top x - \lVert x\rVert^2/2)`, an unbiased estimate
  of the softmax kernel. Sums over a graph's keys are formed once
  (:math:`\sum_j \phi(k_j) v_j^\top` and :math:`\sum_j \phi(k_j)`), so time and memory are
  linear in :math:`N`. The features :math:`\omega` are drawn once (from torch's generator
  at construction, so a seeded fit is reproducible) and kept fixed: inference is
  deterministic.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from graphclust._checks import check_integer

__all__ = ["ATTENTIONS", "FullAttention", "PerformerAttention", "make_attention"]

ATTENTIONS = ("performer", "full")


class _Projections(nn.Module):
    """Shared Q/K/V/output projections and head splitting."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        # Else heads=0 divided by zero and heads=-2 built heads of width -4.
        channels = check_integer("channels", channels, 1)
        heads = check_integer("heads", heads, 1)
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        self.heads = heads
        self.head_dim = channels // heads
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)

    def split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.qkv(h).view(h.shape[0], 3, self.heads, self.head_dim).unbind(1)
        return q, k, v  # each (N, heads, head_dim)

    def merge(self, values: torch.Tensor) -> torch.Tensor:
        return self.out(values.flatten(1))  # (N, heads, head_dim) -> (N, channels), N = 0 too


class FullAttention(nn.Module):
    """Exact multi-head softmax attention within each graph (module docstring)."""

    def __init__(self, channels: int, heads: int = 4, max_nodes: int = 5000):
        super().__init__()
        self.projections = _Projections(channels, heads)
        self.max_nodes = check_integer("max_nodes", max_nodes, 0)

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        n = h.shape[0]
        if n > self.max_nodes:
            raise ValueError(
                f"full attention over {n} nodes needs an {n} x {n} score matrix per head; "
                f"the limit is max_nodes={self.max_nodes}: use attention='performer' "
                "(linear cost) or a smaller graph"
            )
        q, k, v = (t.transpose(0, 1) for t in self.projections.split(h))  # (heads, N, d)
        mask = None if batch is None else batch[:, None] == batch[None, :]
        values = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.projections.merge(values.transpose(0, 1))


class PerformerAttention(nn.Module):
    """Linear-cost FAVOR+ attention within each graph (module docstring).

    Parameters
    ----------
    channels, heads : int
    num_features : int
        Random features :math:`m` per head (more: closer to softmax attention).
    """

    def __init__(self, channels: int, heads: int = 4, num_features: int = 64):
        super().__init__()
        self.projections = _Projections(channels, heads)
        # Else 0 or fewer features failed inside torch.cat with no name.
        self.num_features = check_integer("num_features", num_features, 1)
        self.register_buffer("omega", self._orthogonal_features(heads, num_features,
                                                                channels // heads))

    @staticmethod
    def _orthogonal_features(heads: int, m: int, d: int) -> torch.Tensor:
        """``(heads, m, d)`` Gaussian rows, orthogonal within blocks of ``d`` (FAVOR+)."""
        if torch.empty(0).is_meta:  # a build for shapes alone (a model file's check) draws
            return torch.empty(heads, m, d)  # nothing: heads * m / d QRs took a file's time
        blocks = []
        for _ in range(heads):
            rows = []
            for _ in range(math.ceil(m / d)):
                q, r = torch.linalg.qr(torch.randn(d, d))
                # QR's signs are not random (LAPACK gives every first row a negative first
                # entry): fixed by R's diagonal, Q is uniform over rotations and the
                # features' kernel estimate unbiased.
                rows.append((q * torch.where(r.diagonal() < 0, -1.0, 1.0)).T)
            block = torch.cat(rows)[:m]
            norms = torch.randn(m, d).norm(dim=1, keepdim=True)  # chi-distributed lengths
            blocks.append(block * norms)
        return torch.stack(blocks)

    def _features(self, x: torch.Tensor, per_row_max: bool,
                  batch: torch.Tensor | None = None, num_graphs: int = 1) -> torch.Tensor:
        """:math:`\\phi(x)` up to a factor that cancels in the attention ratio."""
        x = x * self.projections.head_dim ** -0.25  # so that q.k is scaled by 1/sqrt(d)
        logits = torch.einsum("nhd,hmd->nhm", x, self.omega) - x.pow(2).sum(-1, keepdim=True) / 2
        # Subtracting a maximum keeps exp() finite. For queries a per-row shift, for keys
        # one shift per head and graph: both cancel between the numerator and the
        # denominator. A shift shared by the graphs of a batch had let one graph's keys
        # underflow to the 1e-6 floor below another's, its attention becoming uniform.
        shift = logits.amax(-1, keepdim=True)  # (N, heads, 1)
        if not per_row_max and batch is None:
            shift = shift.amax(0, keepdim=True)
        elif not per_row_max:
            per_graph = shift.new_full((num_graphs, *shift.shape[1:]), -torch.inf)
            shift = per_graph.index_reduce_(0, batch, shift, "amax")[batch]
        return torch.exp(logits - shift.detach()) + 1e-6

    def forward(self, h: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.projections.split(h)
        if h.shape[0] == 0:  # no keys to take the shift from, and no rows to attend
            return self.projections.merge(v)
        num_graphs = 1 if batch is None else int(batch.max()) + 1
        phi_q = self._features(q, True)  # (N, heads, m)
        phi_k = self._features(k, False, batch, num_graphs)
        if batch is None:
            # One summary read by every row: gathering it per row (kv[index]) had held a
            # copy of it a row, (channels x num_features) floats, most of a fit's peak.
            kv = torch.einsum("nhm,nhd->hmd", phi_k, v)
            numerator = torch.einsum("nhm,hmd->nhd", phi_q, kv)
            denominator = torch.einsum("nhm,hm->nh", phi_q, phi_k.sum(0))[..., None]
        else:
            outer = torch.einsum("nhm,nhd->nhmd", phi_k, v)
            kv = outer.new_zeros(num_graphs, *outer.shape[1:]).index_add_(0, batch, outer)
            k_sum = phi_k.new_zeros(num_graphs, *phi_k.shape[1:]).index_add_(0, batch, phi_k)
            numerator = torch.einsum("nhm,nhmd->nhd", phi_q, kv[batch])
            denominator = torch.einsum("nhm,nhm->nh", phi_q, k_sum[batch])[..., None]
        return self.projections.merge(numerator / denominator)


def make_attention(kind: str, channels: int, heads: int, max_full_nodes: int = 5000,
                   num_features: int = 64) -> nn.Module:
    """An attention module by name (``"performer"`` or ``"full"``)."""
    if kind == "performer":
        return PerformerAttention(channels, heads, num_features)
    if kind == "full":
        return FullAttention(channels, heads, max_full_nodes)
    raise ValueError(f"attention={kind!r} is not one of {ATTENTIONS}")
