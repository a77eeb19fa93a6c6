r"""Residual sublayers with their normalisation placement.

A transformer-style block is a stack of residual sublayers :math:`f` (attention, message
passing, feed-forward). Where the normalisation goes changes how the residual stream
grows with depth:

* pre-norm (the usual choice of modern transformers):
  :math:`h \leftarrow h + f(\mathrm{LN}(h))`;
* post-norm (the original transformer): :math:`h \leftarrow \mathrm{LN}(h + f(h))`.

Further placements (Peri-LN, depth-scaled LN, re-parameterised BatchNorm) live in
:mod:`graphclust.extras.normalization`; they follow the same interface: a module built
from ``(sublayer, channels, layer_index)`` whose ``forward(h, *args)`` returns the new
residual stream and passes ``*args`` (edges, batch vector) on to the sublayer.

``LayerNorm`` here normalises each node's features (never across nodes).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PRE_POST", "PostNormResidual", "PreNormResidual", "residual_sublayer"]


class PreNormResidual(nn.Module):
    """:math:`h + f(\\mathrm{LN}(h))`."""

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1):
        super().__init__()
        self.sublayer = sublayer
        self.norm = nn.LayerNorm(channels)

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return h + self.sublayer(self.norm(h), *args)


class PostNormResidual(nn.Module):
    """:math:`\\mathrm{LN}(h + f(h))`."""

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1):
        super().__init__()
        self.sublayer = sublayer
        self.norm = nn.LayerNorm(channels)

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return self.norm(h + self.sublayer(h, *args))


PRE_POST = {"pre": PreNormResidual, "post": PostNormResidual}


def residual_sublayer(placement, sublayer: nn.Module, channels: int,
                      layer_index: int) -> nn.Module:
    """Wrap ``sublayer`` as a residual sublayer.

    ``placement`` is ``"pre"``/``"post"`` or any callable with the signature of the
    classes above (``(sublayer, channels, layer_index) -> nn.Module``), e.g. from
    :mod:`graphclust.extras.normalization`. ``layer_index`` counts from 1.
    """
    if isinstance(placement, str):
        if placement not in PRE_POST:
            raise ValueError(f"norm placement {placement!r} is not one of {sorted(PRE_POST)} "
                             "(further placements: graphclust.extras.normalization)")
        placement = PRE_POST[placement]
    if not callable(placement):
        raise TypeError(f"norm placement must be a name or a callable, got {placement!r}")
    return placement(sublayer, channels, layer_index)
