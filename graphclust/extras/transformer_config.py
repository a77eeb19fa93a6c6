r"""Graph-transformer extras as configurations: attention factories and
:class:`ExtraGraphTransformerConfig`.

The attention factories are frozen dataclasses (so :mod:`graphclust.io` saves them as
JSON) called as ``factory(channels, heads)`` like the ``attention`` of
:class:`graphclust.nn.GraphTransformerConfig`; they build the modules of
:mod:`graphclust.extras.graph_attention`. :class:`ExtraGraphTransformerConfig` builds the
core GPS layers with any of them, a norm placement of
:mod:`graphclust.extras.normalization` by name, a depth-dependent attention (p-MoD's
capacity schedule) and optional recursive weight sharing: one GPS layer looped
``num_layers`` times with depth-wise LoRA (Relaxed Recursive Transformers,
:class:`graphclust.extras.weight_sharing.RecursiveStack`).

Wide-shallow attention (Brown et al. 2022, "Wide Attention is the Way Forward for
Transformers?") needs no code: one layer with more heads, e.g.
``GraphTransformerConfig(num_layers=1, heads=16)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from torch import nn

from graphclust._checks import check_flag, check_integer
from graphclust.extras.graph_attention import (
    ConvolvedQKVAttention,
    MixtureOfDepthsAttention,
    SimplifiedLinearAttention,
    TokenMergingAttention,
    _check_fraction,
)
from graphclust.extras.normalization import (
    NORM_PLACEMENTS,
    advance_norm_schedules,
    norm_placement,
)
from graphclust.extras.weight_sharing import RecursiveStack
from graphclust.nn.attention import ATTENTIONS, make_attention
from graphclust.nn.graph_transformer import (
    GPSLayer,
    GraphTransformer,
    GraphTransformerConfig,
    _AttentionAdapter,
)

__all__ = [
    "MOD_SCHEDULES",
    "ConvolvedQKV",
    "ExtraGraphTransformer",
    "ExtraGraphTransformerConfig",
    "MixtureOfDepths",
    "SLABAttention",
    "TokenMerging",
]

#: Capacity along depth: the same at every layer, or p-MoD's linear decay from 1.
MOD_SCHEDULES = ("constant", "linear")


def _check_kind(kind) -> None:
    if kind not in ATTENTIONS:
        raise ValueError(f"kind={kind!r} is not one of {ATTENTIONS}")


@dataclass(frozen=True)
class SLABAttention:
    """Factory of :class:`~graphclust.extras.graph_attention.SimplifiedLinearAttention`."""

    def __call__(self, channels: int, heads: int, layer_index: int | None = None,
                 num_layers: int | None = None) -> SimplifiedLinearAttention:
        return SimplifiedLinearAttention(channels, heads)


@dataclass(frozen=True)
class ConvolvedQKV:
    """Factory of :class:`~graphclust.extras.graph_attention.ConvolvedQKVAttention`."""

    kind: str = "performer"
    num_features: int = 64
    max_full_nodes: int = 5000

    def __post_init__(self):
        _check_kind(self.kind)
        check_integer("num_features", self.num_features, 1)
        check_integer("max_full_nodes", self.max_full_nodes, 1)

    def __call__(self, channels: int, heads: int, layer_index: int | None = None,
                 num_layers: int | None = None) -> ConvolvedQKVAttention:
        return ConvolvedQKVAttention(channels, heads, self.kind, self.num_features,
                                     self.max_full_nodes)


@dataclass(frozen=True)
class MixtureOfDepths:
    r"""Factory of :class:`~graphclust.extras.graph_attention.MixtureOfDepthsAttention`.

    With ``schedule="linear"`` (p-MoD) layer :math:`l` of :math:`L` keeps
    :math:`c_l = 1 - (1 - c)\,(l - 1)/(L - 1)` of the nodes (1 for one layer), so the
    first layer routes all nodes and the last ``final_capacity`` :math:`c`; this needs the
    layer position, which :class:`ExtraGraphTransformerConfig` passes.
    ``schedule="constant"`` keeps :math:`c` everywhere. p-MoD's progressive ratio decay
    is cosine-shaped across many layers; any decay from 1 to :math:`c` is the same for two
    layers, the estimator's default depth.
    """

    final_capacity: float = 0.5
    schedule: str = "linear"
    kind: str = "performer"
    num_features: int = 64
    max_full_nodes: int = 5000

    def __post_init__(self):
        _check_fraction("final_capacity", self.final_capacity, 0.0, 1.0, low_open=True)
        if self.schedule not in MOD_SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r} is not one of {MOD_SCHEDULES}")
        _check_kind(self.kind)
        check_integer("num_features", self.num_features, 1)
        check_integer("max_full_nodes", self.max_full_nodes, 1)

    def capacity(self, layer_index: int | None, num_layers: int | None) -> float:
        """Capacity of layer ``layer_index`` (from 1) of ``num_layers``."""
        if self.schedule == "constant":
            return float(self.final_capacity)
        if layer_index is None or num_layers is None:
            raise ValueError("MixtureOfDepths(schedule='linear') needs the layer position: "
                             "use it in ExtraGraphTransformerConfig, or schedule='constant'")
        if not 1 <= layer_index <= num_layers:
            raise ValueError(f"layer_index {layer_index} is outside 1..{num_layers}")
        if num_layers == 1:
            return 1.0
        return 1.0 - (1.0 - self.final_capacity) * (layer_index - 1) / (num_layers - 1)

    def __call__(self, channels: int, heads: int, layer_index: int | None = None,
                 num_layers: int | None = None) -> MixtureOfDepthsAttention:
        return MixtureOfDepthsAttention(channels, heads,
                                        self.capacity(layer_index, num_layers), self.kind,
                                        self.num_features, self.max_full_nodes)


@dataclass(frozen=True)
class TokenMerging:
    """Factory of :class:`~graphclust.extras.graph_attention.TokenMergingAttention`."""

    merge_ratio: float = 0.1
    kind: str = "performer"
    num_features: int = 64
    max_full_nodes: int = 5000

    def __post_init__(self):
        _check_fraction("merge_ratio", self.merge_ratio, 0.0, 0.5, low_open=False)
        _check_kind(self.kind)
        check_integer("num_features", self.num_features, 1)
        check_integer("max_full_nodes", self.max_full_nodes, 1)

    def __call__(self, channels: int, heads: int, layer_index: int | None = None,
                 num_layers: int | None = None) -> TokenMergingAttention:
        return TokenMergingAttention(channels, heads, self.merge_ratio, self.kind,
                                     self.num_features, self.max_full_nodes)


_FACTORIES = (SLABAttention, ConvolvedQKV, MixtureOfDepths, TokenMerging)


class ExtraGraphTransformer(GraphTransformer):
    """:class:`graphclust.nn.GraphTransformer` whose layer stack is replaced by depth-aware
    GPS layers or a recursive shared GPS layer (see :class:`ExtraGraphTransformerConfig`).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, heads: int, conv: str, attention: Any, norm: Any,
                 share_layers: bool, lora_rank: int, positional_encoding: str | None,
                 pe_dim: int, num_features: int, max_full_nodes: int) -> None:
        # The core builds the input, positional and output maps; its layer stack (one
        # cheap layer here) is replaced because its attention factory gets no layer position.
        super().__init__(in_channels, hidden_channels, out_channels, 1, heads, conv, "full",
                         norm, positional_encoding, pe_dim, num_features, max_full_nodes)
        self.num_layers = num_layers

        def attention_module(layer_index: int) -> nn.Module:
            if isinstance(attention, str):
                return _AttentionAdapter(make_attention(attention, hidden_channels, heads,
                                                        max_full_nodes, num_features))
            return attention(hidden_channels, heads, layer_index, num_layers)

        if share_layers:
            block = GPSLayer(hidden_channels, conv, attention_module(1), norm, 1)
            self.layers = nn.ModuleList([RecursiveStack(lambda _: block, num_layers,
                                                        lora_rank)])
        else:
            self.layers = nn.ModuleList(
                GPSLayer(hidden_channels, conv, attention_module(index), norm, index)
                for index in range(1, num_layers + 1))

    def after_optimizer_step(self) -> None:
        """Advance PRepBN's LayerNorm-to-BatchNorm schedules (no-op for other norms)."""
        advance_norm_schedules(self)


@dataclass(frozen=True)
class ExtraGraphTransformerConfig:
    """A GPS graph transformer with extras attention, norm placement and weight sharing.

    Parameters
    ----------
    hidden_channels, num_layers, heads, conv, positional_encoding, pe_dim, num_features,
    max_full_nodes
        As :class:`graphclust.nn.GraphTransformerConfig`.
    attention : {"performer", "full"} or factory
        A name, or :class:`SLABAttention`, :class:`ConvolvedQKV`,
        :class:`MixtureOfDepths` or :class:`TokenMerging`.
    norm : {"post", "pre", "peri", "scaled", "prepbn"}
        Norm placement of every residual sublayer
        (:data:`graphclust.extras.normalization.NORM_PLACEMENTS`).
    prepbn_steps : int
        Optimizer steps of PRepBN's LayerNorm-to-BatchNorm decay (``norm="prepbn"``).
    share_layers : bool
        One GPS layer applied ``num_layers`` times (Relaxed Recursive Transformers). The
        shared layer is layer 1 for depth-dependent parts (``norm="scaled"``); a decaying
        MoD capacity cannot be shared and is refused.
    lora_rank : int
        Rank of the depth-wise LoRA adapters on the shared layer's linear maps (0: strict
        tying). Needs ``share_layers``.
    """

    hidden_channels: int = 64
    num_layers: int = 2
    heads: int = 4
    conv: str = "gcn"
    attention: Any = "performer"
    norm: str = "post"
    prepbn_steps: int = 50
    share_layers: bool = False
    lora_rank: int = 0
    positional_encoding: str | None = None
    pe_dim: int = 8
    num_features: int = 64
    max_full_nodes: int = 5000
    uses_graph: ClassVar[bool] = True

    def __post_init__(self):
        # The core configuration checks the shared fields and the attention name.
        GraphTransformerConfig(self.hidden_channels, self.num_layers, self.heads, self.conv,
                               self.attention if isinstance(self.attention, str)
                               else "performer", "post", self.positional_encoding,
                               self.pe_dim, self.num_features, self.max_full_nodes)
        if not isinstance(self.attention, (str, *_FACTORIES)):
            raise TypeError("attention must be 'performer', 'full' or one of "
                            f"{[f.__name__ for f in _FACTORIES]}, got {self.attention!r}")
        if self.norm not in NORM_PLACEMENTS:
            raise ValueError(f"norm={self.norm!r} is not one of {sorted(NORM_PLACEMENTS)}")
        check_integer("prepbn_steps", self.prepbn_steps, 1)
        check_flag("share_layers", self.share_layers)
        check_integer("lora_rank", self.lora_rank, 0)
        if self.lora_rank and not self.share_layers:
            raise ValueError("lora_rank > 0 adapts shared layers: set share_layers=True")
        if (self.share_layers and isinstance(self.attention, MixtureOfDepths)
                and self.attention.schedule == "linear" and self.num_layers > 1):
            raise ValueError("a shared layer has one MoD capacity: use "
                             "MixtureOfDepths(schedule='constant') with share_layers=True")

    def build(self, in_channels: int, out_channels: int) -> ExtraGraphTransformer:
        norm = (norm_placement("prepbn", decay_steps=self.prepbn_steps)
                if self.norm == "prepbn" else norm_placement(self.norm))
        return ExtraGraphTransformer(in_channels, self.hidden_channels, out_channels,
                                     self.num_layers, self.heads, self.conv, self.attention,
                                     norm, self.share_layers, self.lora_rank,
                                     self.positional_encoding, self.pe_dim, self.num_features,
                                     self.max_full_nodes)
