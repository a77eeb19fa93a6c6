r"""The start part: how the encoder is first set, before k-means places the centres.

A start is a small frozen dataclass with two methods:

* ``check(config, embedding_dim)``: raise ``ValueError`` before any work when it cannot
  start an encoder built from ``config`` (an :class:`graphclust.nn.config.EncoderConfig`);
* ``__call__(encoder, run, *, config, contrastive, decoder) -> nn.Module``: the started
  encoder. ``run`` is the fit's :class:`graphclust.training.TrainingRun` (inputs, the
  sampler's batches, seed, generator, ``history``), ``contrastive`` the objective's
  contrastive term (a held-out run reads its ``tau``), ``decoder()`` gives the decoder an
  autoencoder start trains: a start that calls it declares ``needs_decoder = True`` (a
  class attribute), so that fit checks the decoder's ``hidden_dims`` before any work.
  ``run.inputs.x`` is sparse CSR when the encoder takes it (:mod:`graphclust.nn.sparse_rows`,
  whose ``select_rows`` and ``dense_rows`` read rows of either layout).

Four are provided; the estimators build one from ``pretrain`` and its parameters, or take
one as ``start=``:

* :class:`LinearStart`: contrastive steps on a linear map (begun at random weights or at
  the features' principal directions), optionally whitened, grown into the encoder with
  ``from_linear``;
* :class:`ContrastiveStart`: the same steps on the encoder itself;
* :class:`AutoencoderStart`: SDCN's recipe (MSE reconstruction, batches of 256);
* :class:`NoStart`: random weights.
"""

from typing import Protocol, runtime_checkable

from graphclust.starts.autoencoder import AutoencoderStart, NoStart
from graphclust.starts.contrastive import (
    LINEAR_INITS,
    START_RETAKE,
    ContrastiveStart,
    LinearStart,
    start_length,
)
from graphclust.starts.held_out_rule import (
    START_EROSION,
    START_MIN_FALL,
    START_MIN_ROOM,
    START_RANK_EROSION,
    START_RANK_FLOOR,
    START_RANK_TAUGHT,
    START_VERDICT_STEPS,
    held_out_summary,
    start_gate,
)

__all__ = ["LINEAR_INITS", "START_EROSION", "START_MIN_FALL", "START_MIN_ROOM",
           "START_RANK_EROSION", "START_RANK_FLOOR", "START_RANK_TAUGHT", "START_RETAKE",
           "START_VERDICT_STEPS",
           "AutoencoderStart", "ContrastiveStart", "LinearStart", "NoStart", "Start",
           "held_out_summary", "start_gate", "start_length"]


@runtime_checkable
class Start(Protocol):
    """Anything with ``check(config, embedding_dim)`` and the call above."""

    def check(self, config, embedding_dim: int) -> None: ...

    def __call__(self, encoder, run, *, config, contrastive, decoder): ...
