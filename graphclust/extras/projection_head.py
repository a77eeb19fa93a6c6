r"""Projection head: the contrastive loss sees :math:`g(h)`, everything else sees :math:`h`.

Xue et al. ("Investigating the Benefits of Projection Head for Representation Learning",
ICLR 2024) explain why contrastive learners put a small MLP :math:`g` on top of the encoder
and then throw it away: the loss shapes :math:`g(h)` directly, so the layer it acts on
specialises to the pretext task (it discards features the loss does not reward, and is
more affected by its augmentations and biases), while the pre-projection representation
:math:`h` keeps more of the features and transfers better to downstream tasks.

Here the downstream task is clustering: the encoder returns :math:`h` (the embedding the
Student-t head clusters and ``transform`` returns), and only the neighbour-contrastive
loss is computed on the projection,

.. math::

    \mathcal L = \beta\,\mathrm{KL}(P\|Q(h)) + \alpha\,\mathcal L_{NC}(g(h)),

through the training loop's ``contrastive_views`` hook. The clustering term keeps acting
on :math:`h`, so the encoder is still trained by both losses, the head by the contrastive
one alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["ProjectedEncoder", "ProjectionHeadConfig"]


class ProjectedEncoder(nn.Module):
    """An encoder whose contrastive view is a projection of its output.

    Parameters
    ----------
    encoder : nn.Module
        Computes the embedding :math:`h` from the encoder inputs; its outputs are this
        module's outputs.
    head : nn.Module
        The projection :math:`g`, applied row-wise to :math:`h` for the contrastive loss
        only; its output may have any width.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.encoder(*inputs)

    def contrastive_views(self, z: torch.Tensor) -> list[torch.Tensor]:
        """``[g(z)]``: the contrastive loss acts on the projection, not on ``z``."""
        return [self.head(z)]


@dataclass(frozen=True)
class ProjectionHeadConfig:
    """An MLP encoder ``in - hidden_dims - out`` with an MLP projection head
    ``out - head_dims - out`` for the contrastive loss.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths of the encoder (:class:`graphclust.nn.MLP`).
    head_dims : tuple of int
        Hidden widths of the projection head :math:`g`; its output width is the
        embedding width. ``()`` gives a linear head.
    activation : str
        Non-linearity of both MLPs.
    """

    hidden_dims: tuple[int, ...] = (256,)
    head_dims: tuple[int, ...] = (32,)
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> ProjectedEncoder:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        head = check_positive_ints("head_dims", self.head_dims)
        return ProjectedEncoder(
            MLP([in_channels, *hidden, out_channels], self.activation),
            MLP([out_channels, *head, out_channels], self.activation),
        )
