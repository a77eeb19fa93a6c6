r"""Depth-breadth fusion: an embedding projected from several depths of an encoder at once.

Florence-VL (Chen et al. 2024, "Florence-VL: Enhancing Vision-Language Models with
Generative Vision Encoder and Depth-Breadth Fusion") feeds its language model with the
features of several layers of the vision encoder, concatenated along the channels and
projected together, instead of the last layer alone: low layers keep detail that the
top of the encoder has abstracted away. Adapted to our encoders, the embedding is

.. math::

    z = W\,\big[\,h^{(d_1)} \,\|\, h^{(d_2)} \,\|\, \cdots \,\|\, h^{(d_m)}\,\big] + b,

for selected depths :math:`d_1 < \dots < d_m` of the hidden states :math:`h^{(d)}`
(:class:`graphclust.extras.residual_mlp.ResidualMLP` passes its residual stream after the
input layer, :math:`d = 0`, and after each block). Every selected depth reaches the
embedding through its own block of columns of :math:`W`, so each one gets a gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.nn.config import check_positive_ints

__all__ = ["DepthFusion"]


class DepthFusion(nn.Module):
    """A learned linear projection of the concatenation of several hidden states.

    Parameters
    ----------
    in_channels : sequence of int
        Width of each fused hidden state, in the order they are passed to ``forward``.
    out_channels : int
        Width of the output (the embedding).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int):
        super().__init__()
        self.in_channels = check_positive_ints("in_channels", in_channels)
        if not self.in_channels:
            raise ValueError("DepthFusion needs at least one hidden state to fuse")
        out_channels = check_integer("out_channels", out_channels, 1)  # a scalar, not a list
        self.projection = nn.Linear(sum(self.in_channels), out_channels)

    def forward(self, hidden: Sequence[torch.Tensor]) -> torch.Tensor:
        widths = tuple(h.shape[-1] for h in hidden)
        if widths != self.in_channels:
            raise ValueError(f"DepthFusion expects hidden states of widths {self.in_channels}, "
                             f"got {widths}")
        return self.projection(torch.cat(tuple(hidden), dim=-1))
