"""The starts that need no contrastive term: SDCN's autoencoder, and none at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from graphclust._checks import check_integer, check_positive_real
from graphclust.nn.sparse_rows import dense_rows, select_rows
from graphclust.training.parts import optimizer_step

__all__ = ["AutoencoderStart", "NoStart"]


@dataclass(frozen=True)
class NoStart:
    """Random weights: the encoder as built."""

    def check(self, config, embedding_dim: int) -> None:
        """Any encoder can start from random weights."""

    def __call__(self, encoder: nn.Module, run, *, config, contrastive, decoder) -> nn.Module:
        return encoder


@dataclass(frozen=True)
class AutoencoderStart:
    """SDCN's recipe: ``epochs`` epochs of Adam on the MSE of a decoder's reconstruction,
    in shuffled batches of ``batch_size`` rows.

    The decoder is the estimator's (SDCN's mirror MLP ``embedding - reversed(hidden_dims)
    - features``); an estimator whose objective reconstructs (SCGC) keeps training it.
    Needs a feature-only encoder.
    """

    epochs: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256

    #: The estimator must be able to build a decoder (``hidden_dims``) for this start.
    needs_decoder: ClassVar[bool] = True

    def __post_init__(self) -> None:  # a part passed as start= skips the estimator's table
        check_integer("epochs", self.epochs, 0)
        check_positive_real("lr", self.lr)
        check_positive_real("weight_decay", self.weight_decay, allow_zero=True)
        check_integer("batch_size", self.batch_size, 1)

    def check(self, config, embedding_dim: int) -> None:
        if config.uses_graph:
            raise ValueError("pretrain='autoencoder' needs a feature-only encoder; this one "
                             "passes messages over the graph (use 'linear', 'contrastive' or "
                             "'none')")

    def __call__(self, encoder: nn.Module, run, *, config, contrastive, decoder) -> nn.Module:
        if self.epochs == 0:
            return encoder
        x = run.inputs.x
        decoder = decoder()
        parameters = list(encoder.parameters()) + list(decoder.parameters())
        optimizer = torch.optim.Adam(parameters, lr=self.lr, weight_decay=self.weight_decay)
        for epoch in range(1, self.epochs + 1):
            order = torch.randperm(x.shape[0], generator=run.generator, device=x.device)
            total = 0.0
            for batch in order.split(self.batch_size):
                rows = select_rows(x, batch)  # dense or CSR, as the encoder takes them
                loss = F.mse_loss(decoder(encoder(rows)), dense_rows(rows))
                optimizer_step(encoder, optimizer, loss)
                total += loss.item() * len(batch)
            run.history.append({"epoch": epoch, "phase": "pretrain", "loss": total / x.shape[0]})
        return encoder
