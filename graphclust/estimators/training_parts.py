"""The pieces the training loop composes: how the encoder reads a batch, the modules one
DDP unit wraps, and the process context of multi-process training."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from graphclust.sampling import CSRGraph, sample_neighbors

__all__ = ["EncoderInputs", "Networks", "Rows", "data_parallel", "distributed_context"]


@dataclass
class EncoderInputs:
    """How the encoder sees the training graph: rows only, or (sub)graphs around them."""

    x: torch.Tensor
    edge_index: torch.Tensor | None  # None for feature-only encoders
    csr: CSRGraph | None  # for sampling neighbourhoods of mini-batches
    fanouts: list[int]
    generator: torch.Generator

    def __call__(self, batch) -> tuple[tuple[torch.Tensor, ...], int]:
        """Encoder arguments for a batch and how many leading output rows are its candidates."""
        num_candidates = len(batch.candidates)
        if batch.is_full_graph:
            rows = (self.x,) if self.edge_index is None else (self.x, self.edge_index)
            return rows, num_candidates
        if self.edge_index is None:
            return (self.x[batch.candidates],), num_candidates
        # The candidates' sampled neighbourhoods; candidates come first in the subgraph.
        sub = sample_neighbors(self.csr, batch.candidates, self.fanouts, self.generator)
        return (self.x[sub.node_ids], sub.edge_index), num_candidates


class Rows(nn.Module):
    """An encoder called on batch inputs, keeping the candidates' leading rows."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, arguments: tuple[torch.Tensor, ...], num_candidates: int) -> torch.Tensor:
        return self.encoder(*arguments)[:num_candidates]


class Networks(nn.Module):
    """Encoder, clustering head and optional decoder as one module (one DDP unit)."""

    def __init__(self, encoder, head, decoder, embedding):
        super().__init__()
        self.rows = Rows(encoder)
        self.head = head
        self.decoder = decoder
        self.embedding = embedding  # the estimator's map from encoder output to head input

    def forward(self, arguments, num_candidates: int, num_seeds: int):
        z = self.rows(arguments, num_candidates)
        seeds = z[:num_seeds]
        q = self.head(self.embedding(seeds))
        reconstructed = self.decoder(seeds) if self.decoder is not None else None
        return z, q, reconstructed


def distributed_context() -> tuple[int, int]:
    """``(rank, world_size)`` of an initialised torch.distributed job, else ``(0, 1)``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def data_parallel(module: nn.Module, world_size: int) -> nn.Module:
    if world_size == 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device = next(module.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)
