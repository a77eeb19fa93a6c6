r"""Local learning with augmented auxiliary networks (AugLocal) for the MLP encoder.

Ma, Wu, Si and Tan, "Scaling Supervised Local Learning with Augmented Auxiliary
Networks" (ICLR 2024). Local learning splits a network into gradient-isolated blocks:
each block's output is detached before the next block, so no error signal travels back
across a block boundary, and every block is trained by a loss of its own computed by a
small auxiliary network on its output. AugLocal builds the auxiliary network of a block
from a uniformly spaced subset of the layers that follow it in the main network (fresh
copies of their shapes, not shared weights), so that each block learns features useful to
the layers after it.

Adaptation to our encoder :math:`x \to h_1 \to \dots \to h_L \to z` (``hidden_dims`` of
length :math:`L \ge 2`):

* block :math:`i \le L` is hidden layer :math:`i` and its activation; the input of every
  block after the first is detached. The output layer belongs to the last block, so the
  estimator's losses on :math:`z` (contrastive and clustering) train only block
  :math:`L` and the output layer, as the classifier's loss trains the last block in
  AugLocal;
* block :math:`i < L` has an auxiliary head :math:`a_i` mapping :math:`h_i` to the
  embedding size: fresh copies of ``aux_depth`` of the later hidden layers
  :math:`i+1, \dots, L`, uniformly spaced and always ending with layer :math:`L`
  (all of them when fewer remain), then a linear projection like the output layer. With
  0-based block index :math:`i` the chosen layers are
  :math:`\mathrm{round}(i + k (L - 1 - i) / d)`, :math:`k = 1..d`, AugLocal's rule;
  deeper blocks get shorter heads once fewer than ``aux_depth`` layers remain. (AugLocal
  additionally shrinks the depth linearly with the block index; with the two or three
  blocks of our encoders that schedule and this cap coincide or differ by one layer, so
  it is left out.)
* the objective is the estimator's own contrastive loss, averaged over the views
  :math:`[z, a_1(h_1), \dots, a_{L-1}(h_{L-1})]` through the ``contrastive_views`` hook,
  so block :math:`i < L` learns only from its head's contrastive loss.

At prediction time (and whenever gradients are off) the encoder is the plain MLP; the
heads only train. Because the training loop back-propagates the sum of all the losses
at once, every block's activations are still held until that single backward pass: this
module gives the gradient isolation of local learning, not its activation-memory saving,
which needs a backward pass per block.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.nn.config import check_positive_ints
from graphclust.nn.mlp import MLP

__all__ = ["LocalLearningMLP", "LocalLearningMLPConfig", "auxiliary_layer_indices"]


def auxiliary_layer_indices(block: int, num_blocks: int, aux_depth: int) -> list[int]:
    """0-based hidden layers whose shapes the auxiliary head of ``block`` copies.

    AugLocal's uniform selection: all later layers when at most ``aux_depth`` remain,
    else ``round(block + k * (num_blocks - 1 - block) / aux_depth)`` for
    ``k = 1..aux_depth`` (uniformly spaced, ending with the last hidden layer).

    Parameters
    ----------
    block : int
        0-based index of the block, ``0 <= block < num_blocks - 1``.
    num_blocks : int
        Number of hidden layers.
    aux_depth : int
        Number of later layers to copy (0: the head is a linear projection).
    """
    num_blocks = check_integer("num_blocks", num_blocks, 2)
    block = check_integer("block", block, 0)
    aux_depth = _check_aux_depth(aux_depth)  # -1 had given a linear head
    if not 0 <= block < num_blocks - 1:
        raise ValueError(f"block must be in [0, {num_blocks - 1}) (blocks with a later "
                         f"block), got {block}")
    remaining = num_blocks - 1 - block
    if aux_depth >= remaining:
        return list(range(block + 1, num_blocks))
    return [round(block + k * remaining / aux_depth) for k in range(1, aux_depth + 1)]


def _check_aux_depth(aux_depth) -> int:
    if isinstance(aux_depth, bool) or not isinstance(aux_depth, numbers.Integral) \
            or aux_depth < 0:
        raise ValueError(f"aux_depth must be a non-negative integer, got {aux_depth!r}")
    return int(aux_depth)


class LocalLearningMLP(MLP):
    """An :class:`graphclust.nn.MLP` trained block by block with auxiliary heads.

    ``forward`` computes the plain MLP's output; in training (gradients on) it detaches
    the input of every hidden layer after the first and keeps the hidden outputs for
    :meth:`contrastive_views`.

    Parameters
    ----------
    dims : sequence of int
        Layer widths ``(features, hidden..., embedding)`` with at least two hidden layers.
    aux_depth : int
        Number of later hidden layers copied into each auxiliary head.
    activation : str
        Non-linearity between layers (also inside the heads).

    Attributes
    ----------
    aux_heads : nn.ModuleList of MLP
        ``aux_heads[i]`` maps hidden layer ``i``'s output to the embedding size.
    """

    def __init__(self, dims: Sequence[int], aux_depth: int = 1,
                 activation: str = "relu") -> None:
        aux_depth = _check_aux_depth(aux_depth)
        super().__init__(dims, activation)
        hidden = self.dims[1:-1]
        if len(hidden) < 2:
            raise ValueError(f"local learning needs at least two hidden layers (blocks), got "
                             f"layer widths {self.dims}")
        self.aux_depth = aux_depth
        self.aux_heads = nn.ModuleList(
            MLP([hidden[block],
                 *(hidden[j] for j in auxiliary_layer_indices(block, len(hidden), aux_depth)),
                 self.out_channels], activation)
            for block in range(len(hidden) - 1)
        )
        self._block_outputs: list[torch.Tensor] | None = None

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for head in self.aux_heads:
            head.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *blocks, output = self.layers
        block_outputs = []
        h = x
        for index, layer in enumerate(blocks):
            if index > 0:
                h = h.detach()  # gradient isolation: no error signal crosses a block boundary
            h = self.activation(layer(h))
            block_outputs.append(h)
        # Kept (undetached) for the auxiliary heads of every block but the last, whose
        # loss is the estimator's loss on z.
        self._block_outputs = block_outputs[:-1] if torch.is_grad_enabled() else None
        return output(h)

    def contrastive_views(self, z: torch.Tensor) -> list[torch.Tensor]:
        """``[z, a_1(h_1), ..., a_{L-1}(h_{L-1})]`` of the last training forward pass.

        Uses the leading ``len(z)`` rows of each block output (the training loop may keep
        only the batch's candidate rows of ``z``). Each forward pass's outputs are used
        once: they are released here.
        """
        if self._block_outputs is None:
            raise RuntimeError("contrastive_views needs the block outputs of a forward pass "
                               "with gradients enabled; call the encoder first")
        block_outputs, self._block_outputs = self._block_outputs, None
        rows = z.shape[0]
        return [z, *(head(h[:rows]) for head, h in zip(self.aux_heads, block_outputs,
                                                         strict=True))]

    def __repr__(self) -> str:
        heads = ", ".join("-".join(map(str, head.dims)) for head in self.aux_heads)
        return f"{type(self).__name__}({'-'.join(map(str, self.dims))}, aux heads: {heads})"


@dataclass(frozen=True)
class LocalLearningMLPConfig:
    """A :class:`LocalLearningMLP` encoder ``in - hidden_dims... - out``.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths, at least two (one block per hidden layer).
    aux_depth : int
        Number of later hidden layers copied into each auxiliary head (0: linear heads).
    activation : str
        Non-linearity between layers.
    """

    hidden_dims: tuple[int, ...] = (256, 256)
    aux_depth: int = 1
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> LocalLearningMLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return LocalLearningMLP([in_channels, *hidden, out_channels], self.aux_depth,
                                self.activation)
