r"""The start of a contrastive clusterer: how its encoder is first set before the centres.

``pretrain`` picks one of four starts, all run by :class:`StartStage` (a mixin of
:class:`graphclust.estimators.contrastive.ContrastiveClusterer`, reading the estimator's
parameters):

* ``"linear"``: contrastive steps on a linear map ``features -> embedding_dim``, optionally
  whitened (:func:`graphclust.nn.whitening.whiten_linear_`), then grown into the encoder
  with ``from_linear`` so that the encoder computes that map;
* ``"contrastive"``: the same steps on the encoder itself;
* ``"autoencoder"``: SDCN's recipe (batches of 256, MSE reconstruction);
* ``"none"``: random weights.

The contrastive starts can hold out a share of the edges and stop when the held-out
contrastive loss clearly rises (:class:`graphclust.objectives.HeldOutEdges`).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from graphclust.estimators.training_parts import EncoderInputs, Rows, data_parallel
from graphclust.nn.mlp import MLP
from graphclust.nn.whitening import whiten_linear_
from graphclust.objectives.held_out import HeldOutEdges
from graphclust.sampling import CSRGraph

__all__ = ["PRETRAIN_MODES", "START_EROSION", "StartStage"]

PRETRAIN_MODES = ("linear", "contrastive", "autoencoder", "none")
#: The start stops once its held-out loss has risen above its minimum by this share of
#: the fall from the first check to that minimum: a clear rise, not a plateau's noise
#: (benchmarks/results/notes.md, "A label-free length for the start").
START_EROSION = 0.1


class StartStage:
    """The start stage of :class:`~graphclust.estimators.contrastive.ContrastiveClusterer`."""

    def _pretrain_lr(self) -> float:
        """``pretrain_lr``, with ``"auto"`` resolved: 1e-2 for the linear start, whose map
        cannot erode its clusters and converges in half the steps at this rate
        (benchmarks/results/notes.md), and 1e-3 for the encoder's own starts."""
        if isinstance(self.pretrain_lr, str):
            return 1e-2 if self.pretrain == "linear" else 1e-3
        return float(self.pretrain_lr)

    def _pretrain_weight_decay(self) -> float:
        """``pretrain_weight_decay``, with ``"auto"`` resolved: 1e-4 for the linear start
        (an L2 penalty on the map: Cora +0.004 ACC over 10 seeds, DBLP level or better,
        benchmarks/results/notes.md), none for the other starts."""
        if isinstance(self.pretrain_weight_decay, str):
            return 1e-4 if self.pretrain == "linear" else 0.0
        return float(self.pretrain_weight_decay)

    def _held_out_edges(self, graph, generator) -> HeldOutEdges | None:
        """The edges the contrastive starts set aside to know when to stop, or ``None``
        (fixed length: ``start_holdout=None``, another start, or too few edges to score)."""
        if (self.start_holdout is None or self.pretrain not in ("linear", "contrastive")
                or self.pretrain_epochs == 0):
            return None
        held_out = HeldOutEdges(graph.edge_index, graph.num_nodes, float(self.start_holdout),
                                self.tau, generator)
        # Fewer pairs than this give a loss too noisy to tell a rise from chance.
        return held_out if len(held_out) >= 32 else None

    def _pretrain(self, inputs: EncoderInputs, batches, generator, world_size: int,
                  held_out: HeldOutEdges | None, seed: int, rank: int) -> None:
        """Start the encoder: contrastive-only steps (of the encoder itself, or of a linear
        map then grown into it), an autoencoder, or nothing.

        With held-out edges the length of a contrastive start is chosen first
        (:meth:`_start_length`); the start then runs that many steps on every edge from
        the same initial weights. With several processes the contrastive start is
        data-parallel like training; the autoencoder start runs identically (same seed,
        same data) on every process.
        """
        if self.pretrain == "none" or self.pretrain_epochs == 0:
            return
        if self.pretrain in ("linear", "contrastive"):
            if self.pretrain == "linear":
                # A linear map cannot fit the contrastive loss beyond what the features
                # explain as an MLP can, and the grown encoder starts from that map
                # (benchmarks/results/notes.md). It always reads the features alone.
                self.encoder_ = MLP([self.n_features_in_, int(self.embedding_dim)]).to(
                    inputs.x.device)
                inputs = replace(inputs, edge_index=None, csr=None, fanouts=[])
            steps = self.pretrain_epochs
            if held_out is not None:
                initial = deepcopy(self.encoder_.state_dict())
                steps = self._start_length(inputs, held_out, seed, rank, world_size)
                self.encoder_.load_state_dict(initial)
            for step, loss in self._contrastive_steps(inputs, batches, world_size, steps):
                self.history_.append({"epoch": step, "phase": "pretrain", "loss": loss})
            if self.pretrain == "linear":
                if self.start_whitening is not None:
                    # Equalise the map's strong directions before k-means reads its
                    # clusters (graphclust.nn.whitening; benchmarks/results/notes.md).
                    whiten_linear_(self.encoder_.layers[0], self._encode_all(inputs.x, None),
                                   float(self.start_whitening))
                self.encoder_ = self._encoder_config().from_linear(self.encoder_.layers[0])
            return
        # SDCN's recipe: mini-batches of 256, MSE reconstruction, Adam.
        x = inputs.x
        decoder = self.decoder_ or self._decoder().to(x.device)
        parameters = list(self.encoder_.parameters()) + list(decoder.parameters())
        optimizer = torch.optim.Adam(parameters, lr=self._pretrain_lr(),
                                     weight_decay=self._pretrain_weight_decay())
        for epoch in range(1, self.pretrain_epochs + 1):
            order = torch.randperm(x.shape[0], generator=generator, device=x.device)
            total = 0.0
            for batch in order.split(256):
                loss = F.mse_loss(decoder(self.encoder_(x[batch])), x[batch])
                self._step(optimizer, loss)
                total += loss.item() * len(batch)
            self.history_.append(
                {"epoch": epoch, "phase": "pretrain", "loss": total / x.shape[0]}
            )

    def _contrastive_steps(self, inputs: EncoderInputs, batches, world_size: int, steps: int):
        """``steps`` Adam steps of the contrastive loss alone on ``encoder_``, yielding each
        step's number and loss.

        One optimizer step per unit of ``pretrain_epochs``, whatever the batch size: the
        start is measured in Adam steps (a full-graph epoch is one step), because too many
        steps erode an MLP's clusters (benchmarks/results/notes.md).
        """
        encoder = data_parallel(Rows(self.encoder_), world_size)
        optimizer = self._optimizer(self.encoder_, self._pretrain_lr(),
                                    self._pretrain_weight_decay())
        stream = (batch for _ in iter(int, 1) for batch in batches)
        with self._progress(steps, "pretrain") as bar:
            for step in range(1, steps + 1):
                batch = next(stream)
                arguments, num_candidates = inputs(batch)
                loss = self._contrastive_loss(encoder(arguments, num_candidates), batch)
                self._step(optimizer, loss)
                if bar is not None:
                    bar.update()
                    bar.set_postfix(loss=f"{loss.item():.4f}")
                yield step, loss.item()

    def _start_length(self, inputs: EncoderInputs, held_out: HeldOutEdges, seed: int,
                      rank: int, world_size: int) -> int:
        """How many steps the start runs, chosen on held-out edges.

        The start trains on the other edges; every ``check_interval`` steps the encoder is
        scored on the held-out ones (:mod:`graphclust.objectives.held_out`). Once the
        held-out loss has risen above its minimum by more than ``START_EROSION`` of its
        fall so far, the length is the step of that minimum; a start that never erodes
        gets ``pretrain_epochs``. The checks are in ``history_`` (phase
        ``"start-length"``), the chosen one marked ``"kept"``.
        """
        num_nodes = inputs.x.shape[0]
        train = held_out.train_edge_index
        batches = self._contrastive_batches(Data(edge_index=train, num_nodes=num_nodes), seed,
                                            rank, world_size)
        if inputs.edge_index is not None:  # an encoder that reads the graph sees no held-out edge
            csr = None if inputs.csr is None else CSRGraph.from_edge_index(
                train, num_nodes, device=inputs.x.device)
            inputs = replace(inputs, edge_index=train, csr=csr)

        def check(step: int, loss: float | None) -> dict:
            entry = {"epoch": step, "phase": "start-length",
                     "held_out_loss": held_out.loss(self._encode_nodes(inputs, held_out.nodes))}
            if loss is not None:
                entry["loss"] = loss
            self.history_.append(entry)
            return entry

        first = best = check(0, None)
        for step, loss in self._contrastive_steps(inputs, batches, world_size,
                                                  self.pretrain_epochs):
            if step % self.check_interval and step < self.pretrain_epochs:
                continue
            entry = check(step, loss)
            if entry["held_out_loss"] < best["held_out_loss"]:
                best = entry
            elif (entry["held_out_loss"] - best["held_out_loss"] > START_EROSION * (
                    first["held_out_loss"] - best["held_out_loss"])):
                # Eroding: the map now fits the training edges at the others' cost.
                best["kept"] = True
                return best["epoch"]
        entry["kept"] = True
        return self.pretrain_epochs

    def _encode_nodes(self, inputs: EncoderInputs, nodes: torch.Tensor) -> torch.Tensor:
        """Embeddings of ``nodes`` (feature-only encoders read only their rows)."""
        if inputs.edge_index is None:
            return self._encode_all(inputs.x[nodes], None)
        return self._encode_all(inputs.x, inputs.edge_index)[nodes]
