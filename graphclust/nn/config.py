r"""Encoder configurations: what an estimator needs to build its encoder.

Estimators trained with the contrastive objective take ``encoder=None`` (their own default
architecture) or any object following :class:`EncoderConfig`: a small frozen dataclass of
hyperparameters with a ``build(in_channels, out_channels)`` method. This keeps the encoder
swappable (MLP, MPNN + virtual node, graph transformer, or a variant from
:mod:`graphclust.extras`) without the estimators knowing any of them, and lets
:mod:`graphclust.io` save the choice as JSON (the dataclass fields and its import path).

Two kinds of encoder exist, told apart by ``uses_graph``:

* feature-only (``uses_graph = False``): ``module(x) -> z``. Predicting needs no graph and
  mini-batches encode only the batch's rows;
* message-passing (``uses_graph = True``): ``module(x, edge_index) -> z`` for every node of
  the given (sub)graph, with ``module.num_layers`` hops of receptive field. Predicting needs
  the graph, and mini-batches encode sampled ``num_layers``-hop neighbourhoods.

A built module may also define these optional methods, which the training loop
(:func:`graphclust.training.train_clusterer` and the starts) calls when present:

* ``contrastive_views(z) -> list[Tensor]``: the tensors the contrastive loss is averaged
  over (default ``[z]``); e.g. a projection head or matryoshka prefixes;
* ``regularization() -> Tensor``: a scalar added to every training loss;
* ``after_optimizer_step()``: runs (without gradients) after each optimizer step;
* ``parameter_groups(lr) -> list[dict]``: torch optimizer groups with their own
  learning rates (parameters left out get ``lr``).

A feature-only module whose ``accepts_sparse_rows`` is true (:class:`graphclust.nn.MLP`)
is given sparse features as CSR rows (:mod:`graphclust.nn.sparse_rows`); every other
module gets dense rows.

A configuration may define ``from_linear(linear) -> nn.Module``: the encoder, computing the
map of the trained ``torch.nn.Linear`` it is given (exactly, or up to a positive factor per
node, which the normalised embedding ignores), with the same ``state_dict`` layout as
``build()`` (saved models are rebuilt through ``build()``). Estimators then accept
``pretrain="linear"``: a contrastive start of a linear map on the features alone, grown
into the encoder; a message-passing encoder starts with its graph branches silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from torch import nn

from graphclust.nn.mlp import MLP, check_positive_ints, grow_linear

__all__ = ["EncoderConfig", "MLPConfig", "check_positive_ints"]


@runtime_checkable
class EncoderConfig(Protocol):
    """Anything with ``uses_graph`` and ``build(in_channels, out_channels) -> nn.Module``."""

    uses_graph: ClassVar[bool]

    def build(self, in_channels: int, out_channels: int) -> nn.Module: ...


@dataclass(frozen=True)
class MLPConfig:
    """A feature-only :class:`graphclust.nn.MLP` ``in - hidden_dims... - out``.

    Parameters
    ----------
    hidden_dims : tuple of int
        Hidden widths.
    activation : str
        Non-linearity between layers (see :class:`graphclust.nn.MLP`).
    """

    hidden_dims: tuple[int, ...] = (256,)
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> MLP:
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return MLP([in_channels, *hidden, out_channels], self.activation)

    def from_linear(self, linear: nn.Linear) -> MLP:
        """This MLP computing exactly ``linear``'s map (:func:`graphclust.nn.mlp.grow_linear`,
        which validates the widths)."""
        return grow_linear(linear, self.hidden_dims, self.activation)
