r"""GPS-style graph transformer (Rampášek et al., "Recipe for a General, Powerful, Scalable
Graph Transformer", NeurIPS 2022), the GT of Cai et al.'s MPNN/GT comparison.

Each :class:`GPSLayer` runs a local message-passing layer and global attention over all
nodes of the graph in parallel, then a feed-forward network, each as a residual sublayer
(:mod:`graphclust.nn.residual`):

.. math::

    h &\leftarrow \mathrm{Res}\big(h \mapsto \mathrm{MPNN}(h, E) + \mathrm{Attn}(h)\big)(h), \\
    h &\leftarrow \mathrm{Res}\big(\mathrm{FFN}\big)(h),
    \qquad \mathrm{FFN}(h) = W_2\,\mathrm{ReLU}(W_1 h),

where :math:`\mathrm{Res}(f)(h)` is :math:`\mathrm{LN}(h + f(h))` (``norm="post"``,
default, as GPS) or :math:`h + f(\mathrm{LN}(h))` (``"pre"``). GPS normalises its two
branches separately; summing them inside one residual keeps a single residual stream for
every norm placement, including those of :mod:`graphclust.extras.normalization`.
LayerNorm normalises each node (PyG's ``GPSConv`` with ``norm="layer_norm"`` would
normalise across the nodes of a graph by default, mixing nodes of a mini-batch).

Attention is linear-cost Performer by default or exact softmax attention for small graphs
(:mod:`graphclust.nn.attention`). Optional positional encodings
(:mod:`graphclust.nn.positional`) are computed on the graph given to ``forward`` (the
whole graph at inference, the sampled subgraph in mini-batch training) and added to the
input projection through a linear map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch_geometric.nn import GCNConv, GINConv

from graphclust._checks import check_integer
from graphclust.nn.attention import ATTENTIONS, make_attention
from graphclust.nn.local_conv import local_conv
from graphclust.nn.mlp import carry_linear
from graphclust.nn.mpnn_vn import _check_architecture
from graphclust.nn.positional import POSITIONAL_ENCODINGS, laplacian_pe, random_walk_pe
from graphclust.nn.residual import residual_sublayer

__all__ = ["GPSLayer", "GraphTransformer", "GraphTransformerConfig", "LocalGlobal"]


class LocalGlobal(nn.Module):
    """:math:`\\mathrm{MPNN}(h, E) + \\mathrm{Attn}(h)`: GPS's two parallel branches.

    The attention module is called as ``attention(h, batch, edge_index)``; the built-in
    ones ignore ``edge_index``, extras (e.g. neighbour-mixed Q/K/V) may read it.
    """

    def __init__(self, conv: nn.Module, attention: nn.Module):
        super().__init__()
        self.conv = conv
        self.attention = attention

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor,
                batch: torch.Tensor | None) -> torch.Tensor:
        return self.conv(h, edge_index) + self.attention(h, batch, edge_index)


class _FeedForward(nn.Sequential):
    def __init__(self, channels: int, expansion: int = 2):
        super().__init__(nn.Linear(channels, expansion * channels), nn.ReLU(),
                         nn.Linear(expansion * channels, channels))


class _AttentionAdapter(nn.Module):
    """Gives the built-in attentions the ``(h, batch, edge_index)`` call signature."""

    def __init__(self, attention: nn.Module):
        super().__init__()
        self.inner = attention

    def forward(self, h, batch, edge_index):
        return self.inner(h, batch)


class GPSLayer(nn.Module):
    """One GPS layer: residual (MPNN + attention), then residual FFN (module docstring)."""

    def __init__(self, channels: int, conv: str, attention: nn.Module, norm: Any = "post",
                 layer_index: int = 1):
        super().__init__()
        self.mix = residual_sublayer(norm, LocalGlobal(local_conv(conv, channels), attention),
                                     channels, layer_index)
        self.feedforward = residual_sublayer(norm, _FeedForward(channels), channels,
                                             layer_index)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor,
                batch: torch.Tensor | None = None) -> torch.Tensor:
        return self.feedforward(self.mix(h, edge_index, batch))


class GraphTransformer(nn.Module):
    """Input projection (+ positional encoding), GPS layers, LayerNorm and linear output.

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
    num_layers : int
        GPS layers (each adds one hop of message passing).
    heads : int
        Attention heads (``hidden_channels`` must be divisible by it).
    conv : {"gcn", "gin"}
        Local message-passing layer.
    attention : {"performer", "full"} or callable
        Global attention, or a factory ``(channels, heads) -> module`` whose forward is
        ``(h, batch, edge_index)`` (see :mod:`graphclust.extras`).
    norm : {"post", "pre"} or callable
        Norm placement of the residual sublayers (:func:`graphclust.nn.residual_sublayer`).
    positional_encoding : {None, "random_walk", "laplacian"}
    pe_dim : int
        Walk steps or eigenvectors of the positional encoding.
    num_features : int
        Performer random features per head.
    max_full_nodes : int
        Largest graph full attention accepts.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, heads: int = 4, conv: str = "gcn",
                 attention: Any = "performer", norm: Any = "post",
                 positional_encoding: str | None = None, pe_dim: int = 8,
                 num_features: int = 64, max_full_nodes: int = 5000) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if positional_encoding not in (None, *POSITIONAL_ENCODINGS):
            raise ValueError(f"positional_encoding={positional_encoding!r} is not None or one "
                             f"of {POSITIONAL_ENCODINGS}")
        self.num_layers = num_layers
        self.positional_encoding = positional_encoding
        self.pe_dim = pe_dim
        self.input = nn.Linear(in_channels, hidden_channels)
        self.pe_input = nn.Linear(pe_dim, hidden_channels) if positional_encoding else None

        def attention_module() -> nn.Module:
            if isinstance(attention, str):
                return _AttentionAdapter(make_attention(attention, hidden_channels, heads,
                                                        max_full_nodes, num_features))
            return attention(hidden_channels, heads)

        self.layers = nn.ModuleList(
            GPSLayer(hidden_channels, conv, attention_module(), norm, index)
            for index in range(1, num_layers + 1)
        )
        self.final_norm = nn.LayerNorm(hidden_channels)
        self.output = nn.Linear(hidden_channels, out_channels)
        self._pe_cache: tuple | None = None

    def positional(self, edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
        """The positional encoding of this graph (cached for the last graph seen)."""
        # _version counts in-place writes: edges edited in place are another graph. An
        # inference-mode tensor has no counter, and cannot be written in place anyway.
        version = None if edge_index.is_inference() else edge_index._version
        key = (edge_index.data_ptr(), version, edge_index.shape[1], num_nodes,
               edge_index.device)
        if self._pe_cache is None or self._pe_cache[0] != key:
            if self.positional_encoding == "random_walk":
                pe = random_walk_pe(edge_index, num_nodes, self.pe_dim)
            else:
                pe = laplacian_pe(edge_index, num_nodes, self.pe_dim)
            self._pe_cache = (key, pe)
        pe = self._pe_cache[1]
        if self.positional_encoding == "laplacian" and self.training:
            # Eigenvector signs are arbitrary: flip them at random so none is learned.
            signs = torch.randint(0, 2, (1, pe.shape[1]), device=pe.device) * 2 - 1
            pe = pe * signs
        return pe

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor,
                batch: torch.Tensor | None = None) -> torch.Tensor:
        h = self.input(x)
        if self.pe_input is not None:
            h = h + self.pe_input(self.positional(edge_index, x.shape[0]).to(h.dtype))
        for layer in self.layers:
            h = layer(h, edge_index, batch)
        return self.output(self.final_norm(h))


@dataclass(frozen=True)
class GraphTransformerConfig:
    """Configuration of :class:`GraphTransformer` (see :mod:`graphclust.nn.config`)."""

    hidden_channels: int = 64
    num_layers: int = 2
    heads: int = 4
    conv: str = "gcn"
    attention: Any = "performer"
    norm: Any = "post"
    positional_encoding: str | None = None
    pe_dim: int = 8
    num_features: int = 64
    max_full_nodes: int = 5000
    uses_graph: ClassVar[bool] = True

    def __post_init__(self):
        _check_architecture(self.hidden_channels, self.num_layers, self.conv)
        check_integer("heads", self.heads, 1)
        if self.hidden_channels % self.heads:
            raise ValueError(f"hidden_channels ({self.hidden_channels}) must be divisible by "
                             f"heads ({self.heads})")
        if isinstance(self.attention, str) and self.attention not in ATTENTIONS:
            raise ValueError(f"attention={self.attention!r} is not one of {ATTENTIONS}")
        if self.positional_encoding not in (None, *POSITIONAL_ENCODINGS):
            raise ValueError(f"positional_encoding={self.positional_encoding!r} is not None "
                             f"or one of {POSITIONAL_ENCODINGS}")
        check_integer("pe_dim", self.pe_dim, 1)
        check_integer("num_features", self.num_features, 1)
        check_integer("max_full_nodes", self.max_full_nodes, 0)

    def build(self, in_channels: int, out_channels: int) -> GraphTransformer:
        return GraphTransformer(in_channels, self.hidden_channels, out_channels,
                                self.num_layers, self.heads, self.conv, self.attention,
                                self.norm, self.positional_encoding, self.pe_dim,
                                self.num_features, self.max_full_nodes)

    def from_linear(self, linear: nn.Linear) -> GraphTransformer:
        r"""A :class:`GraphTransformer` whose output points where ``linear``'s does.

        With :math:`u = Wx + b` (``e`` outputs), the input projection carries :math:`u` and
        :math:`-u` in its first :math:`2e` channels (the others keep their random weights),
        every residual branch (message passing, attention, feed-forward, positional
        encoding) starts with a zero output layer, and the output reads
        :math:`[I, -I]` from those channels. Each LayerNorm then subtracts the same mean
        from both halves of the pair (the difference the output takes removes it) and
        divides by a positive scale, so the encoder computes :math:`c(x)\,u` with
        :math:`c(x) > 0`: the same direction, which is all the contrastive loss (cosine
        similarities) and the clustering head on the unit sphere
        (``normalize_embedding=True``) see. The norm of :math:`u` is not kept (with
        ``hidden_channels = 2e`` every node starts at the same norm), which matters only
        with ``normalize_embedding=False``. The zero output layers receive
        gradients from the first step, so the joint stage grows the message passing and
        attention from the linear start (as :func:`graphclust.nn.mlp.grow_linear` grows an
        MLP). Needs built-in attention, ``norm`` ``"post"`` or ``"pre"`` and
        ``hidden_channels >= 2 e``.
        """
        e = linear.out_features
        if not isinstance(self.attention, str) or self.norm not in ("post", "pre"):
            raise ValueError("from_linear needs built-in attention ('performer' or 'full') and "
                             f"norm 'post' or 'pre', got attention={self.attention!r}, "
                             f"norm={self.norm!r}")
        model = self.build(linear.in_features, e).to(linear.weight)
        carry_linear(linear, model.input, model.output, width_name="hidden_channels")
        with torch.no_grad():
            silent = [layer.mix.sublayer.conv for layer in model.layers]
            silent += [layer.mix.sublayer.attention.inner.projections.out
                       for layer in model.layers]
            silent += [layer.feedforward.sublayer[-1] for layer in model.layers]
            silent += [model.pe_input] if model.pe_input is not None else []
            for module in silent:
                _zero_output(module)
        return model


def _zero_output(module: nn.Module) -> None:
    """Zero the last affine map of a branch, so that the branch outputs zero."""
    if isinstance(module, GCNConv):
        module.lin.weight.zero_()
        module.bias.zero_()
    elif isinstance(module, GINConv):
        _zero_output(module.nn[-1])
    else:
        module.weight.zero_()
        module.bias.zero_()
