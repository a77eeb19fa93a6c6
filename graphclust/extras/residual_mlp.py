r"""A residual feature-only encoder that switches on the normalisation and activation extras.

:class:`ResidualMLP` computes, for a node's features :math:`x`,

.. math::

    h^{(0)} = W_{in} x + b_{in}, \qquad
    h^{(l)} = \mathrm{Residual}_l\big(h^{(l-1)}\big), \quad l = 1..L, \qquad
    z = W_{out} h^{(L)} + b_{out},

where :math:`\mathrm{Residual}_l` wraps the feed-forward sublayer
:math:`f_l(u) = W_2\,\mathrm{sparsify}(\sigma(W_1 u + b_1)) + b_2` in a norm placement
(``"pre"``, ``"post"``, ``"peri"``, ``"scaled"``, ``"prepbn"``:
:mod:`graphclust.extras.normalization`), :math:`\sigma` is ReLU, GELU or squared ReLU and
``sparsify`` optionally keeps the top-k activations of each row
(:mod:`graphclust.extras.activations`). With fusion the output layer is replaced by a
projection of several depths :math:`h^{(d)}` at once (:mod:`graphclust.extras.fusion`).

There is no final normalisation: SCGC* puts the embedding on the unit sphere before the
clustering head (``normalize_embedding=True``), which makes its scale irrelevant there.

Use it through :class:`ResidualMLPConfig`, e.g.
``SCGCStar(n_clusters=4, encoder=ResidualMLPConfig(norm="peri"), pretrain="contrastive",
pretrain_epochs=50)`` (extras encoders take the encoder's own contrastive start, not the
default linear one).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.extras.activations import ACTIVATIONS, TopK, resolve_topk
from graphclust.extras.fusion import DepthFusion
from graphclust.extras.normalization import advance_norm_schedules, norm_placement
from graphclust.nn.residual import residual_sublayer

__all__ = ["FeedForward", "ResidualMLP", "ResidualMLPConfig"]


class FeedForward(nn.Module):
    r""":math:`W_2\,\mathrm{sparsify}(\sigma(W_1 u + b_1)) + b_2`, a square feed-forward sublayer.

    Parameters
    ----------
    channels : int
        Input, inner and output width.
    activation : {"relu", "gelu", "squared_relu"}
        :math:`\sigma`.
    topk : int, float or None
        Keep only the top-k activations of each row (units, or a fraction of
        ``channels``); None keeps all.
    """

    def __init__(self, channels: int, activation: str = "relu",
                 topk: int | float | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        self.expand = nn.Linear(channels, channels)
        self.activation = ACTIVATIONS[activation]()
        self.topk = None if topk is None else TopK(topk)
        self.project = nn.Linear(channels, channels)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        a = self.activation(self.expand(u))
        if self.topk is not None:
            a = self.topk(a)
        return self.project(a)


class ResidualMLP(nn.Module):
    """The encoder described by a :class:`ResidualMLPConfig` (see the module docstring).

    Parameters
    ----------
    config : ResidualMLPConfig
        The architecture (validated when the configuration was made).
    in_channels, out_channels : int
        Feature and embedding widths.
    """

    def __init__(self, config: ResidualMLPConfig, in_channels: int, out_channels: int):
        super().__init__()
        options = {"decay_steps": config.prepbn_steps} if config.norm == "prepbn" else {}
        placement = norm_placement(config.norm, **options)
        width = config.hidden_dim
        self.input = nn.Linear(in_channels, width)
        self.blocks = nn.ModuleList(
            residual_sublayer(placement, FeedForward(width, config.activation, config.topk),
                              width, layer_index)
            for layer_index in range(1, config.num_layers + 1)
        )
        self.fusion_depths = config.fusion_depths()
        if self.fusion_depths is None:
            self.output = nn.Linear(width, out_channels)
        else:
            self.output = DepthFusion([width] * len(self.fusion_depths), out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input(x)
        hidden = [h]  # h^(0), h^(1), ...; kept only when fused
        for block in self.blocks:
            h = block(h)
            if self.fusion_depths is not None:
                hidden.append(h)
        if self.fusion_depths is None:
            return self.output(h)
        return self.output([hidden[depth] for depth in self.fusion_depths])

    def after_optimizer_step(self) -> None:
        """Advance the LayerNorm-to-RepBN schedules (a no-op for other placements)."""
        advance_norm_schedules(self)


@dataclass(frozen=True)
class ResidualMLPConfig:
    """Configuration of a feature-only :class:`ResidualMLP` encoder.

    Parameters
    ----------
    hidden_dim : int
        Width of the residual stream (256, as the plain SCGC* MLP's hidden layer).
    num_layers : int
        Residual feed-forward sublayers, at least 1.
    norm : {"pre", "post", "peri", "scaled", "prepbn"}
        Norm placement (:mod:`graphclust.extras.normalization`).
    activation : {"relu", "gelu", "squared_relu"}
        Feed-forward non-linearity (:mod:`graphclust.extras.activations`).
    topk : int, float or None
        Lazy-Neuron top-k sparsity: units kept per row (int in ``[1, hidden_dim]``) or
        fraction kept (float in ``(0, 1]``); None keeps every activation.
    fusion : bool or tuple of int
        Depth-breadth fusion: False projects the last depth only; True fuses every depth
        ``0..num_layers``; a strictly increasing tuple of depths fuses those. The last
        depth must be among them (deeper blocks would otherwise be unused).
    prepbn_steps : int
        ``norm="prepbn"`` only: optimizer steps over which LayerNorm gives way to RepBN.
        The default, 50, matches the 50-step contrastive start the extras are used with
        (``pretrain="contrastive", pretrain_epochs=50``; one step per epoch), so the
        k-means start and joint training see the folded BatchNorm network that inference
        uses.
    """

    hidden_dim: int = 256
    num_layers: int = 2
    norm: str = "pre"
    activation: str = "relu"
    topk: int | float | None = None
    fusion: bool | tuple[int, ...] = False
    prepbn_steps: int = 50
    uses_graph: ClassVar[bool] = False

    def __post_init__(self) -> None:
        # Scalars: the sequence check had taken (4, 8) and failed on 2.0 ("not iterable").
        check_integer("hidden_dim", self.hidden_dim, 1)
        check_integer("num_layers", self.num_layers, 1)
        norm_placement(self.norm)  # raises on an unknown name
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)}")
        if self.topk is not None:
            resolve_topk(self.topk, self.hidden_dim)
        self.fusion_depths()
        check_integer("prepbn_steps", self.prepbn_steps, 0)

    def fusion_depths(self) -> tuple[int, ...] | None:
        """The fused depths, or None without fusion."""
        fusion = self.fusion
        if isinstance(fusion, bool):
            return tuple(range(self.num_layers + 1)) if fusion else None
        if not isinstance(fusion, tuple) or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in fusion):
            raise TypeError(f"fusion must be a bool or a tuple of depths (ints), got {fusion!r}")
        if not fusion or any(not 0 <= d <= self.num_layers for d in fusion):
            raise ValueError(f"fusion depths must be a non-empty tuple of depths in 0.."
                             f"{self.num_layers} (num_layers), got {fusion!r}")
        if any(a >= b for a, b in pairwise(fusion)):
            raise ValueError(f"fusion depths must be strictly increasing, got {fusion!r}")
        if fusion[-1] != self.num_layers:
            raise ValueError(f"fusion depths {fusion!r} leave out the last depth "
                             f"{self.num_layers}: its blocks would be unused; lower "
                             "num_layers instead")
        return tuple(int(d) for d in fusion)

    def build(self, in_channels: int, out_channels: int) -> ResidualMLP:
        return ResidualMLP(self, in_channels, out_channels)
