"""The pieces the training stages share: how the encoder reads a batch, the run's
context, the encoder's optional hooks, the modules one DDP unit wraps, and the process
context of multi-process training."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from graphclust.nn.sparse_rows import row_chunks, select_rows
from graphclust.sampling import CSRGraph, sample_neighbors

__all__ = ["EncoderInputs", "Networks", "Rows", "TrainingRun", "agreed_minimum",
           "contrastive_views",
           "data_parallel", "distributed_context", "encode_all", "minimum_over_processes",
           "optimizer_for", "optimizer_step"]


@dataclass
class EncoderInputs:
    """How the encoder sees the training graph: rows only, or (sub)graphs around them.

    ``x`` is sparse CSR for an encoder that takes it (:mod:`graphclust.nn.sparse_rows`):
    read its rows with :func:`graphclust.nn.sparse_rows.select_rows` or ``dense_rows``.
    """

    x: torch.Tensor
    edge_index: torch.Tensor | None  # None for feature-only encoders
    fanouts: list[int]  # neighbours per hop around a mini-batch (message passing)
    generator: torch.Generator
    csr: CSRGraph | None = None  # built from edge_index when a mini-batch first needs it
    #: ``x`` computed over another edge set, where the features depend on the edges
    #: (propagated inputs); ``None`` where they do not. The start's held-out run reads
    #: it, so that no held-out edge reaches the encoder through its input.
    features_over: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __call__(self, batch) -> tuple[tuple[torch.Tensor, ...], int]:
        """Encoder arguments for a batch and how many leading output rows are its candidates."""
        num_candidates = len(batch.candidates)
        if batch.is_full_graph:
            rows = (self.x,) if self.edge_index is None else (self.x, self.edge_index)
            return rows, num_candidates
        if self.edge_index is None:
            return (select_rows(self.x, batch.candidates),), num_candidates
        if self.csr is None:
            self.csr = CSRGraph.from_edge_index(self.edge_index, self.x.shape[0],
                                                device=self.x.device)
        # The candidates' sampled neighbourhoods; candidates come first in the subgraph.
        sub = sample_neighbors(self.csr, batch.candidates, self.fanouts, self.generator)
        return (self.x[sub.node_ids], sub.edge_index), num_candidates


@dataclass
class TrainingRun:
    """What every stage of one fit reads besides the modules and the parts' settings."""

    inputs: EncoderInputs
    edge_index: torch.Tensor  # every training edge (the held-out split draws from them)
    sampler: object  # see graphclust.sampling.contrastive
    batches: object  # the sampler's batches over edge_index
    seed: int
    embedding_dim: int
    n_clusters: int
    normalize_embedding: bool = True
    rank: int = 0
    world_size: int = 1
    history: list[dict] = field(default_factory=list)
    #: ``progress(total, description)``: a context giving a bar (or None) for a stage.
    progress: Callable[[int, str], AbstractContextManager] = lambda total, description: \
        nullcontext(None)
    name: str = "train"  # the joint stage's label on its progress bar
    #: ``report(message)``: one line about the fit where the user asked for them
    #: (``verbose``); by default nowhere.
    report: Callable[[str], None] = lambda message: None
    #: Whether the joint stage runs: a start whose held-out edges show that the edges
    #: teach the encoder nothing sets it False (graphclust.starts.START_MIN_FALL).
    joint_stage: bool = True

    @property
    def generator(self) -> torch.Generator:
        return self.inputs.generator

    def head_input(self, z: torch.Tensor) -> torch.Tensor:
        """What the clustering head sees: the encoder output, on the unit sphere if asked."""
        return F.normalize(z, dim=1) if self.normalize_embedding else z


def contrastive_views(encoder: nn.Module, z: torch.Tensor) -> list[torch.Tensor]:
    """The tensors the contrastive term averages over: ``encoder.contrastive_views(z)``
    when the encoder defines it (a projection head, matryoshka prefixes...), else ``[z]``."""
    return encoder.contrastive_views(z) if hasattr(encoder, "contrastive_views") else [z]


def optimizer_for(encoder: nn.Module, module: nn.Module, lr: float,
                  weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam over ``module`` (``weight_decay``: Adam's L2 penalty); the encoder may set
    per-group learning rates.

    ``parameter_groups(lr) -> list of dicts`` (torch's param-group format) lets an
    encoder scale its layers' learning rates (e.g. muP); other parameters get ``lr``.
    """
    if not hasattr(encoder, "parameter_groups"):
        return torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    groups = list(encoder.parameter_groups(lr))
    encoder_ids = {id(p) for p in encoder.parameters()}
    rest = [p for p in module.parameters() if id(p) not in encoder_ids]
    return torch.optim.Adam(groups + ([{"params": rest}] if rest else []), lr=lr,
                            weight_decay=weight_decay)


def optimizer_step(encoder: nn.Module, optimizer, loss: torch.Tensor) -> None:
    """One optimizer step, with the encoder's optional regulariser and post-step hook.

    ``regularization() -> scalar tensor`` is added to the loss (e.g. a group-sparsity
    penalty); ``after_optimizer_step()`` runs after the update (e.g. a proximal step).

    A loss that is not finite (NaN or inf: the weights or the embeddings have overflowed)
    stops the fit with a :class:`FloatingPointError` instead of training on into NaN
    weights, which would leave every node in one cluster without a word.
    """
    if hasattr(encoder, "regularization"):
        loss = loss + encoder.regularization()
    # Every process stops at the same step: one that stopped alone would leave the
    # others waiting in the next all-reduce.
    finite = minimum_over_processes(torch.isfinite(loss.detach()).to(torch.int32))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # Read after the step, where the loops read the loss anyway, so that the check adds
    # no wait for the device before the backward pass; the step it lets through is
    # discarded with the failed fit (fit is all or nothing).
    if not bool(finite):
        raise FloatingPointError(
            f"the training loss is not finite ({float(loss.detach())} in this process): "
            "training diverged, or the features' scale overflowed float32. Lower the "
            "learning rate (lr; pretrain_lr for the start) or bring the features to a "
            "smaller scale (features='auto' or 'standardize')")
    if hasattr(encoder, "after_optimizer_step"):
        with torch.no_grad():
            encoder.after_optimizer_step()


@torch.no_grad()
def encode_all(encoder: nn.Module, x: torch.Tensor, edge_index: torch.Tensor | None,
               chunk_size: int = 65536) -> torch.Tensor:
    """Embeddings of every node, in evaluation mode.

    Feature-only encoders run over row chunks (of dense or CSR ``x``); message-passing
    encoders run layer by layer over the whole graph, so a node's embedding never depends
    on batching.
    """
    was_training = encoder.training
    encoder.eval()
    try:
        if edge_index is not None:
            return encoder(x, edge_index)
        return torch.cat([encoder(chunk) for chunk in row_chunks(x, chunk_size)])
    finally:
        encoder.train(was_training)


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


def minimum_over_processes(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor``, in a torch.distributed job replaced in place by its elementwise
    minimum over the processes (every process calls it at the same point)."""
    if distributed_context()[1] > 1:
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MIN)
    return tensor


def agreed_minimum(value: int, device: torch.device) -> int:
    """``value`` in a single process; in a torch.distributed job, the smallest ``value``
    of its processes, so that a choice each process makes alone (a seed drawn from
    ``random_state=None``, a batch size fitted to its own free memory) is one choice: a
    process that held out other edges, or took more steps an epoch, would train on
    other data or wait alone in an all-reduce."""
    if distributed_context()[1] == 1:
        return value
    return int(minimum_over_processes(
        torch.tensor([value], dtype=torch.int64, device=device)).item())


def data_parallel(module: nn.Module, world_size: int) -> nn.Module:
    if world_size == 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device = next(module.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)
