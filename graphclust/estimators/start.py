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
#: (benchmarks/results/notes.md, "The held-out stop of the start").
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

        With held-out edges the contrastive starts train on the other edges and keep the
        encoder of the lowest held-out loss. With several processes the contrastive start
        is data-parallel like training; the autoencoder start runs identically (same seed,
        same data) on every process.
        """
        if self.pretrain == "none" or self.pretrain_epochs == 0:
            return
        if held_out is not None:
            train_graph = Data(edge_index=held_out.train_edge_index, num_nodes=inputs.x.shape[0])
            batches = self._contrastive_batches(train_graph, seed, rank, world_size)
            csr = None if inputs.csr is None else CSRGraph.from_edge_index(
                held_out.train_edge_index, inputs.x.shape[0], device=inputs.x.device)
            inputs = replace(inputs, csr=csr, edge_index=None if inputs.edge_index is None
                             else held_out.train_edge_index)
        if self.pretrain == "linear":
            # A linear map cannot fit the contrastive loss beyond what the features explain:
            # its clusters do not erode with more steps as an MLP's do, and the grown
            # encoder starts from that map (benchmarks/results/notes.md).
            self.encoder_ = MLP([self.n_features_in_, int(self.embedding_dim)]).to(
                inputs.x.device)
            features_only = replace(inputs, edge_index=None, csr=None, fanouts=[])
            self._contrastive_start(features_only, batches, world_size, held_out)
            if self.start_whitening is not None:
                # Equalise the map's strong directions before k-means reads its clusters
                # (graphclust.nn.whitening; benchmarks/results/notes.md).
                whiten_linear_(self.encoder_.layers[0], self._encode_all(inputs.x, None),
                               float(self.start_whitening))
            self.encoder_ = self._encoder_config().from_linear(self.encoder_.layers[0])
            return
        if self.pretrain == "contrastive":
            self._contrastive_start(inputs, batches, world_size, held_out)
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

    def _contrastive_start(self, inputs: EncoderInputs, batches, world_size: int,
                           held_out: HeldOutEdges | None) -> None:
        """At most ``pretrain_epochs`` Adam steps of the contrastive loss alone on
        ``encoder_``.

        One optimizer step per unit of ``pretrain_epochs``, whatever the batch size: the
        start is measured in Adam steps (a full-graph epoch is one step), because too many
        steps erode an MLP's clusters (benchmarks/results/notes.md). With ``held_out``
        edges, every ``check_interval`` steps the encoder is scored on them; once the
        held-out loss has risen above its minimum by more than ``START_EROSION`` of its
        fall so far, the start stops and goes back to the encoder of the minimum, whose
        ``history_`` entry is marked ``"kept"`` (:mod:`graphclust.objectives.held_out`).
        A start that never erodes runs to ``pretrain_epochs`` and keeps its last encoder.
        """
        encoder = data_parallel(Rows(self.encoder_), world_size)
        optimizer = self._optimizer(self.encoder_, self._pretrain_lr(),
                                    self._pretrain_weight_decay())
        stream = (batch for _ in iter(int, 1) for batch in batches)
        first_loss, best_loss, best_entry, best_state = None, float("inf"), None, None
        with self._progress(self.pretrain_epochs, "pretrain") as bar:
            for step in range(self.pretrain_epochs + 1):
                entry = {"epoch": step, "phase": "pretrain"}
                if step > 0:
                    batch = next(stream)
                    arguments, num_candidates = inputs(batch)
                    loss = self._contrastive_loss(encoder(arguments, num_candidates), batch)
                    self._step(optimizer, loss)
                    entry["loss"] = loss.item()
                    if bar is not None:
                        bar.update()
                        bar.set_postfix(loss=f"{loss.item():.4f}")
                checked = held_out is not None and (step % self.check_interval == 0
                                                    or step == self.pretrain_epochs)
                if checked:
                    entry["held_out_loss"] = held_out.loss(
                        self._encode_nodes(inputs, held_out.nodes))
                if step > 0 or checked:
                    self.history_.append(entry)
                if not checked:
                    continue
                held = entry["held_out_loss"]
                first_loss = held if first_loss is None else first_loss
                if held < best_loss:
                    best_loss, best_entry = held, entry
                    best_state = deepcopy(self.encoder_.state_dict())
                elif held - best_loss > START_EROSION * (first_loss - best_loss):
                    # Eroding: the map now fits the training edges at the others' cost.
                    self.encoder_.load_state_dict(best_state)
                    best_entry["kept"] = True
                    break

    def _encode_nodes(self, inputs: EncoderInputs, nodes: torch.Tensor) -> torch.Tensor:
        """Embeddings of ``nodes`` (feature-only encoders read only their rows)."""
        if inputs.edge_index is None:
            return self._encode_all(inputs.x[nodes], None)
        return self._encode_all(inputs.x, inputs.edge_index)[nodes]
