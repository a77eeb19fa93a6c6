r"""The training loop shared by every estimator with the contrastive objective.

:class:`ContrastiveClusterer` composes the package's parts and knows none of their
insides: an encoder built from an :class:`graphclust.nn.config.EncoderConfig`, the
neighbour-contrastive / IAC objective (:mod:`graphclust.objectives`), DEC's Student-t
head, a k-means start, batches from :mod:`graphclust.estimators.contrastive_batches` and,
for message-passing encoders in mini-batches, :func:`graphclust.sampling.sample_neighbors`.

Training runs in three stages: a start of the encoder (``pretrain``,
:mod:`graphclust.estimators.start`), k-means on the
embeddings to place the Student-t centres, then joint training of
:math:`\beta\,\mathrm{KL}(P\|Q) + \alpha\,\mathcal L_{NC}` (+ reconstruction when the
estimator has a decoder) until the label-free stopping rule fires or ``max_epochs`` is
reached. Subclasses only choose the positives, the decoder, their parameters and their
default encoder (:meth:`ContrastiveClusterer._default_encoder`).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.base import BaseGraphClusterer, _check_int, _check_real
from graphclust.estimators.contrastive_batches import FullGraphBatches, SampledBatches
from graphclust.estimators.start import PRETRAIN_MODES, StartStage
from graphclust.estimators.training_parts import (
    EncoderInputs,
    Networks,
    data_parallel,
    distributed_context,
)
from graphclust.kmeans import kmeans
from graphclust.nn.config import EncoderConfig, check_positive_ints
from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP
from graphclust.objectives.clustering import kl_clustering_loss, target_distribution
from graphclust.objectives.contrastive import neighbor_contrastive_loss
from graphclust.sampling import CSRGraph

__all__ = ["ContrastiveClusterer", "PRETRAIN_MODES", "SIZE_PRIORS", "distributed_context"]

SIZE_PRIORS = ("start", "uniform")


class ContrastiveClusterer(StartStage, BaseGraphClusterer):
    """Base class of SCGC, SCGC*, MPNN+VN and the graph transformer (see module docstring).

    Subclasses set ``_positive_kind`` (``"power"``: :math:`\\hat A^r`, ``"influence"``:
    :math:`\\sum_{l\\le r}\\hat A^l`), ``_reconstruction`` and implement
    :meth:`_default_encoder`. Their ``__init__`` stores the parameters read here.
    """

    _positive_kind = "influence"
    _reconstruction = False

    # ------------------------------------------------------------------ parameters
    def _validate_params(self, num_nodes: int) -> None:
        super()._validate_params(num_nodes)
        _check_int("order", self.order, 1)
        _check_int("max_epochs", self.max_epochs, 0)
        _check_int("pretrain_epochs", self.pretrain_epochs, 0)
        _check_int("embedding_dim", self.embedding_dim, 1)
        _check_int("batch_size", self.batch_size, 1, allow_none=True)
        _check_int("num_walks", self.num_walks, 1)
        _check_int("fanout", self.fanout, 1)
        _check_int("check_interval", self.check_interval, 1)
        for name in ("alpha", "beta", "tol"):
            _check_real(name, getattr(self, name), 0.0, strict=False)
        for name in ("tau", "lr"):
            _check_real(name, getattr(self, name), 0.0, strict=True)
        for name, strict in (("pretrain_lr", True), ("pretrain_weight_decay", False)):
            value = getattr(self, name)
            if not (isinstance(value, str) and value == "auto"):
                _check_real(f"{name} ('auto' or a number)", value, 0.0, strict=strict)
        if self.start_whitening is not None:
            _check_real("start_whitening (None or a number)", self.start_whitening, 0.0,
                        strict=True)
        if self.start_holdout is not None:
            _check_real("start_holdout (None or a fraction)", self.start_holdout, 0.0,
                        strict=True)
            if self.start_holdout >= 0.5:
                raise ValueError(f"start_holdout must be below 0.5 (the start needs most "
                                 f"edges to train on), got {self.start_holdout!r}")
        if self.pretrain not in PRETRAIN_MODES:
            raise ValueError(f"pretrain={self.pretrain!r} is not one of {PRETRAIN_MODES}")
        if self.size_prior not in SIZE_PRIORS:
            raise ValueError(f"size_prior={self.size_prior!r} is not one of {SIZE_PRIORS}")
        if self.encoder is not None and not isinstance(self.encoder, EncoderConfig):
            raise TypeError(
                f"encoder must be None or an encoder configuration with uses_graph and "
                f"build(in_channels, out_channels) (e.g. graphclust.nn.MLPConfig), got "
                f"{type(self.encoder).__name__}"
            )
        if self.encoder is None:
            self._default_encoder()  # validates the architecture parameters
        if self.pretrain == "autoencoder" and self._uses_graph():
            raise ValueError("pretrain='autoencoder' needs a feature-only encoder; this one "
                             "passes messages over the graph (use 'contrastive' or 'none')")
        if self.pretrain == "linear" and self.pretrain_epochs > 0:
            config = self._encoder_config()
            if not hasattr(config, "from_linear"):
                raise ValueError(
                    f"pretrain='linear' grows a linear start into the encoder, which "
                    f"{type(config).__name__} cannot take (it has no from_linear); use "
                    "pretrain='contrastive' (e.g. with pretrain_epochs=50) or 'none'")
            try:
                with torch.random.fork_rng(devices=[]):  # a dry run: widths, activation
                    config.from_linear(nn.Linear(1, int(self.embedding_dim)))
            except ValueError as error:
                raise ValueError(
                    f"pretrain='linear' (the default) cannot grow into this encoder: {error} "
                    f"(embedding_dim={self.embedding_dim}); change the encoder as this says "
                    "(e.g. lower embedding_dim), or pass pretrain='contrastive' (e.g. with "
                    "pretrain_epochs=50)") from None
        if self._reconstruction or self.pretrain == "autoencoder":
            check_positive_ints("hidden_dims", self.hidden_dims)  # the decoder mirrors them

    def _default_encoder(self) -> EncoderConfig:
        """The encoder built from the estimator's own architecture parameters."""
        raise NotImplementedError

    def _encoder_config(self) -> EncoderConfig:
        return self._default_encoder() if self.encoder is None else self.encoder

    def _uses_graph(self) -> bool:
        return self._encoder_config().uses_graph

    def _decoder(self) -> MLP:
        """SDCN's mirror-image decoder ``embedding - reversed(hidden_dims) - features``."""
        hidden = check_positive_ints("hidden_dims", self.hidden_dims)
        return MLP([int(self.embedding_dim), *hidden[::-1], self.n_features_in_])

    # ------------------------------------------------------------------ training
    def _contrastive_batches(self, graph, seed: int, rank: int = 0, world_size: int = 1):
        n = graph.num_nodes
        if self.batch_size is not None and self.batch_size >= n:
            warnings.warn(
                f"batch_size={self.batch_size} is not smaller than the graph ({n} nodes): "
                "training full-batch with exact positives",
                UserWarning,
                stacklevel=5,
            )
        if self.batch_size is None or self.batch_size >= n:
            return FullGraphBatches(graph.edge_index, n, self.order, self._positive_kind,
                                    self.exclude_isolated)
        return SampledBatches(graph.edge_index, n, self.order, self._positive_kind,
                              self.batch_size, self.num_walks, seed, self.exclude_isolated,
                              rank=rank, world_size=world_size)

    def _embedding(self, z: torch.Tensor) -> torch.Tensor:
        """What the clustering head sees: the encoder output, on the unit sphere if asked."""
        return F.normalize(z, dim=1) if self.normalize_embedding else z

    def _contrastive_loss(self, z, batch) -> torch.Tensor:
        """The contrastive loss of the encoder output, averaged over the encoder's views.

        An encoder may define ``contrastive_views(z) -> list of tensors`` (rows aligned
        with ``z``): a projection head, matryoshka prefixes, auxiliary heads of local
        learning. Each view gets the loss; by default the only view is ``z``.
        """
        views = self.encoder_.contrastive_views(z) if hasattr(
            self.encoder_, "contrastive_views") else [z]
        if len(batch.anchor_rows) == 0:  # only isolated nodes in this batch
            return sum(view.sum() for view in views) * 0.0
        return sum(
            neighbor_contrastive_loss(
                view[batch.anchor_rows], view, batch.positive_anchor,
                batch.positive_candidate, batch.positive_weight, self.tau,
                self_candidate=batch.anchor_rows,
            )
            for view in views
        ) / len(views)

    def _step(self, optimizer, loss: torch.Tensor) -> None:
        """One optimizer step, with the encoder's optional regulariser and post-step hook.

        ``regularization() -> scalar tensor`` is added to the loss (e.g. a group-sparsity
        penalty); ``after_optimizer_step()`` runs after the update (e.g. a proximal step).
        """
        if hasattr(self.encoder_, "regularization"):
            loss = loss + self.encoder_.regularization()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if hasattr(self.encoder_, "after_optimizer_step"):
            with torch.no_grad():
                self.encoder_.after_optimizer_step()

    def _optimizer(self, module: nn.Module, lr: float,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
        """Adam over ``module`` (``weight_decay``: Adam's L2 penalty); the encoder may set
        per-group learning rates.

        ``parameter_groups(lr) -> list of dicts`` (torch's param-group format) lets an
        encoder scale its layers' learning rates (e.g. muP); other parameters get ``lr``.
        """
        if not hasattr(self.encoder_, "parameter_groups"):
            return torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
        groups = list(self.encoder_.parameter_groups(lr))
        encoder_ids = {id(p) for p in self.encoder_.parameters()}
        rest = [p for p in module.parameters() if id(p) not in encoder_ids]
        return torch.optim.Adam(groups + ([{"params": rest}] if rest else []), lr=lr,
                                weight_decay=weight_decay)

    def _fit_graph(self, graph, seed, labels) -> None:
        if graph.edge_index.shape[1] == 0:
            warnings.warn(
                "the graph has no edges: the contrastive term has only self-pairs "
                "(every node is its own only positive)",
                UserWarning,
                stacklevel=3,
            )
        device = graph.x.device
        generator = torch.Generator(device=device).manual_seed(seed)
        self.transform_ = FeatureTransform(self.features).fit(graph.x)
        x = self.transform_.transform(graph.x)
        rank, world_size = distributed_context()
        if world_size > 1 and self.batch_size is None:
            raise ValueError(
                "multi-process training shards seed batches across processes: set batch_size"
            )
        batches = self._contrastive_batches(graph, seed, rank, world_size)

        self.encoder_ = self._build_encoder().to(device)
        uses_graph = self._uses_graph()
        self.decoder_ = self._decoder().to(device) if self._reconstruction else None
        self.head_ = StudentTHead(self.n_clusters, int(self.embedding_dim)).to(device)
        edge_index = graph.edge_index if uses_graph else None
        csr = None
        if uses_graph and not isinstance(batches, FullGraphBatches):
            csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes, device=device)
        inputs = EncoderInputs(x, edge_index, csr,
                                [self.fanout] * getattr(self.encoder_, "num_layers", 0),
                                generator)
        self.history_ = []
        self._pretrain(inputs, batches, generator, world_size,
                       self._held_out_edges(graph, generator), seed, rank)

        with torch.no_grad():
            embedding = self._embedding(self._encode_all(x, edge_index))
            start = kmeans(embedding, self.n_clusters, n_init=20, generator=generator)
            self.head_.reset_parameters(start.centers)
        window = [start.labels]  # cluster labels of the last check_interval + 1 epochs

        networks = Networks(self.encoder_, self.head_, self.decoder_, self._embedding)
        # Gradients averaged over processes; DDP also broadcasts rank 0's parameters
        # (centres included) so every process starts from the same k-means solution.
        trained = data_parallel(networks, world_size)
        with torch.no_grad():
            # The target's pull on cluster sizes: towards the start's (soft) sizes, or
            # equal; from the shared centres, so every process uses the same prior.
            size_prior = self.head_(embedding).sum(0) if self.size_prior == "start" else None
        optimizer = self._optimizer(networks, self.lr)
        self.n_iter_ = 0
        with self._progress(self.max_epochs, type(self).__name__) as bar:
            for epoch in range(1, self.max_epochs + 1):
                target = None
                if not isinstance(batches, FullGraphBatches):
                    # Mini-batches: P from the whole graph at the start of the epoch (DEC).
                    with torch.no_grad():
                        q_all = self.head_(self._embedding(self._encode_all(x, edge_index)))
                    target = target_distribution(q_all, size_prior=size_prior)
                    predicted = q_all.argmax(1)
                sums = {"loss": 0.0, "kl": 0.0, "contrastive": 0.0}
                for batch in batches:
                    num_seeds = len(batch.seeds)
                    arguments, num_candidates = inputs(batch)
                    z, q, reconstructed = trained(arguments, num_candidates, num_seeds)
                    p = target_distribution(q, size_prior=size_prior) if target is None \
                        else target[batch.seeds]
                    kl = kl_clustering_loss(p, q)
                    nc = self._contrastive_loss(z, batch)
                    loss = self.beta * kl + self.alpha * nc
                    if reconstructed is not None:
                        seeds_x = x if batch.is_full_graph else x[batch.seeds]
                        reconstruction = F.mse_loss(reconstructed, seeds_x)
                        loss = loss + reconstruction
                        sums["reconstruction"] = sums.get("reconstruction", 0.0) + \
                            reconstruction.item()
                    self._step(optimizer, loss)
                    sums["loss"] += loss.item()
                    sums["kl"] += kl.item()
                    sums["contrastive"] += nc.item()
                    if batch.is_full_graph:
                        predicted = q.detach().argmax(1)
                changed = (predicted != window[-1]).float().mean().item()
                window.append(predicted)
                entry = {"epoch": epoch, "phase": "train", "changed": changed}
                entry.update({key: value / len(batches) for key, value in sums.items()})
                self._record(entry, predicted, labels)
                self.n_iter_ = epoch
                if bar is not None:
                    bar.update()
                    bar.set_postfix(loss=f"{entry['loss']:.4f}", changed=f"{changed:.4f}")
                # DEC's rule over a window: stop once fewer than `tol` of the nodes changed
                # cluster in the last `check_interval` epochs. Every process sees the same
                # whole-graph labels, so all processes stop together.
                if len(window) > self.check_interval:
                    drift = (window.pop(0) != window[-1]).float().mean().item()
                    entry["changed_window"] = drift
                    if drift < self.tol:
                        break

        with torch.no_grad():
            z = self._embedding(self._encode_all(x, edge_index))
            q = self.head_(z)
        self.embedding_ = z.cpu().numpy()
        self.labels_ = q.argmax(1).cpu().numpy()
        self.cluster_centers_ = self.head_.centers.detach().cpu().numpy()

    def _build_encoder(self) -> nn.Module:
        return self._encoder_config().build(self.n_features_in_, int(self.embedding_dim))

    @torch.no_grad()
    def _encode_all(self, x: torch.Tensor, edge_index: torch.Tensor | None,
                    chunk_size: int = 65536) -> torch.Tensor:
        """Embeddings of every node, in evaluation mode.

        Feature-only encoders run over row chunks; message-passing encoders run layer by
        layer over the whole graph, so a node's embedding never depends on batching.
        """
        was_training = self.encoder_.training
        self.encoder_.eval()
        try:
            if edge_index is not None:
                return self.encoder_(x, edge_index)
            return torch.cat([self.encoder_(chunk) for chunk in x.split(chunk_size)])
        finally:
            self.encoder_.train(was_training)

    # ------------------------------------------------------------------ persistence
    def _model_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"encoder.{k}": v for k, v in self.encoder_.state_dict().items()}
        tensors.update({f"head.{k}": v for k, v in self.head_.state_dict().items()})
        if self.decoder_ is not None:
            tensors.update({f"decoder.{k}": v for k, v in self.decoder_.state_dict().items()})
        return tensors

    def _fresh_modules(self) -> dict[str, nn.Module]:
        """New encoder, head and (with reconstruction) decoder, by name prefix, as a saved
        model's tensors describe them."""
        modules = {"encoder": self._build_encoder(),
                   "head": StudentTHead(self.n_clusters, int(self.embedding_dim))}
        if self._reconstruction:
            modules["decoder"] = self._decoder()
        return modules

    def _tensor_spec(self, metadata: dict):
        spec = super()._tensor_spec(metadata)
        dim = int(self.embedding_dim)
        spec["embedding_"] = (("n", dim), torch.float32)
        spec["cluster_centers_"] = ((self.n_clusters, dim), torch.float32)
        for prefix, module in self._fresh_modules().items():
            spec.update({f"{prefix}.{key}": (tuple(value.shape), value.dtype)
                         for key, value in module.state_dict().items()})
        return spec

    def _restore_model(self, tensors: dict[str, torch.Tensor]) -> None:
        modules = self._fresh_modules()
        for prefix, module in modules.items():
            module.load_state_dict({key[len(prefix) + 1:]: value for key, value in
                                    tensors.items() if key.startswith(f"{prefix}.")})
        self.encoder_, self.head_ = modules["encoder"], modules["head"]
        self.decoder_ = modules.get("decoder")

    # ------------------------------------------------------------------ inference
    def _embed(self, x: torch.Tensor, edge_index: torch.Tensor | None) -> torch.Tensor:
        x = self.transform_.transform(x)
        return self._embedding(self._encode_all(x, edge_index if self._uses_graph() else None))


