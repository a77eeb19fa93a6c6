r"""The estimator side of every clusterer with the contrastive objective.

:class:`ContrastiveClusterer` turns its flat parameters into the five parts and hands them
to :func:`graphclust.training.train_clusterer`:

* **encoder**: ``encoder=`` or the estimator's default configuration (:mod:`graphclust.nn`);
* **start**: ``start=`` or one built from ``pretrain`` and its parameters
  (:mod:`graphclust.starts`);
* **objective**: ``objective=`` or one built from ``alpha``, ``beta``, ``tau`` and
  ``size_prior`` (:mod:`graphclust.objectives.composed`);
* **head**: DEC's Student-t centres, started by k-means (:class:`graphclust.nn.StudentTHead`);
* **sampler**: ``sampler=`` or one built from ``batch_size``, ``num_walks``, ``order``,
  ``exclude_isolated`` and ``fanout`` (:mod:`graphclust.sampling.contrastive`);
  ``batch_size="auto"`` is resolved by :func:`graphclust.memory.choose_batch_size`.

Before the features are transformed for training and before anything is trained (a plain
matrix's kNN graph is searched before, as the estimate needs its edges), every fit compares
the estimated peak memory of its batch setting
(:func:`graphclust.memory.estimate_peak_memory`) with what the device has available and
raises :class:`graphclust.memory.TrainingMemoryError` instead of running out of memory.
A message-passing encoder counts as an MLP of its widths plus its messages, attention and
sampled neighbourhoods (:mod:`graphclust.memory_messages`).

Subclasses only choose the positives (``_positive_kind``), whether the default objective
reconstructs (``_reconstruction``), their parameters and their default encoder
(:meth:`ContrastiveClusterer._default_encoder`).
"""

from __future__ import annotations

import math
import warnings

import torch
from sklearn.utils._param_validation import StrOptions
from torch import nn

from graphclust._warnings import user_stacklevel
from graphclust.data.propagation import propagation_powers
from graphclust.data.transforms import FEATURE_TRANSFORMS, SHIFTED_KINDS
from graphclust.estimators.base import BaseGraphClusterer
from graphclust.estimators.checks import memory_check_in_every_process, warn_if_edges_disagree
from graphclust.estimators.params import (
    Param,
    at_least,
    between,
    non_negative,
    positive,
    propagation_depth,
)
from graphclust.estimators.persistence import PersistedNetworks
from graphclust.memory import (
    check_fits,
    choose_batch_size,
    estimate_peak_memory,
    positive_pair_bound,
)
from graphclust.memory_messages import message_passing_sizes
from graphclust.nn.config import EncoderConfig, check_positive_ints
from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP
from graphclust.nn.sparse_rows import sparse_rows_if_faster
from graphclust.objectives.composed import (
    SIZE_PRIORS,
    ClusteringObjective,
    NeighborContrast,
    Objective,
    Reconstruction,
    SelfTraining,
)
from graphclust.sampling.contrastive import (
    EPOCH_BATCHES,
    FullGraphSampler,
    RandomWalkSampler,
    Sampler,
)
from graphclust.sampling.csr import memory_to_check
from graphclust.starts import (
    AutoencoderStart,
    ContrastiveStart,
    LinearStart,
    NoStart,
    Start,
    start_length,
)
from graphclust.training.loop import Schedule, train_clusterer
from graphclust.training.parts import (
    EncoderInputs,
    TrainingRun,
    agreed_minimum,
    distributed_context,
    encode_all,
)

__all__ = ["ContrastiveClusterer", "PRETRAIN_MODES", "SIZE_PRIORS", "distributed_context"]

PRETRAIN_MODES = ("linear", "contrastive", "autoencoder", "none")


class ContrastiveClusterer(PersistedNetworks, BaseGraphClusterer):
    """Base class of SCGC, SCGC*, MPNN+VN and the graph transformer (see module docstring).

    Subclasses set ``_positive_kind`` (``"power"``: :math:`\\hat A^r`, ``"influence"``:
    :math:`\\sum_{l\\le r}\\hat A^l`), ``_reconstruction`` and implement
    :meth:`_default_encoder`. Their ``__init__`` stores the parameters read here.
    """

    _positive_kind = "influence"
    _reconstruction = False
    _trains_across_processes = True

    _read_at_inference = (*BaseGraphClusterer._read_at_inference, "encoder",
                          "propagation_steps", "input_hops", "normalize_embedding")

    _parameters = {
        **BaseGraphClusterer._parameters,
        "alpha": Param(0.03, [non_negative()]),
        "beta": Param(1.0, [non_negative()]),
        "tau": Param(1.0, [positive()]),
        "order": Param(2, [at_least(1)]),
        "lr": Param(3e-4, [positive()]),
        "pretrain_lr": Param("auto", [positive(), StrOptions({"auto"})]),
        "pretrain_weight_decay": Param("auto", [non_negative(), StrOptions({"auto"})]),
        "start_whitening": Param(0.3, [positive(), None]),
        "start_holdout": Param(0.1, [between(0.0, 0.5), None]),
        "max_epochs": Param(200, [at_least(0)]),
        "pretrain": Param("linear", [StrOptions(set(PRETRAIN_MODES))]),
        "pretrain_epochs": Param(200, [at_least(0)]),
        "embedding_dim": Param(32, [at_least(1)]),
        "encoder": Param(None, [EncoderConfig, None]),
        "start": Param(None, [Start, None]),
        "objective": Param(None, [Objective, None]),
        "sampler": Param(None, [Sampler, None]),
        "features": Param("auto", [StrOptions(set(FEATURE_TRANSFORMS))]),
        "propagation_steps": Param(0, [propagation_depth()]),
        "input_hops": Param(0, [propagation_depth()]),
        "batch_size": Param("auto", [at_least(1), StrOptions({"auto"}), None]),
        "num_walks": Param(4, [at_least(1)]),
        "fanout": Param(10, [at_least(1)]),
        "exclude_isolated": Param(True, ["boolean"]),
        "normalize_embedding": Param(True, ["boolean"]),
        "size_prior": Param("start", [StrOptions(set(SIZE_PRIORS))]),
        "tol": Param(5e-3, [non_negative()]),
        "check_interval": Param(10, [at_least(1)]),
    }

    def _replaced_parameters(self) -> dict[str, tuple[str, ...]]:
        return {"start": ("pretrain", "pretrain_epochs", "pretrain_lr", "pretrain_weight_decay",
                          "start_whitening", "start_holdout"),
                "objective": ("alpha", "beta", "tau", "size_prior"),
                "sampler": ("batch_size", "num_walks", "order", "exclude_isolated", "fanout")}

    def _check_params(self, num_nodes: int) -> None:
        for part in ("encoder", "start", "objective", "sampler"):
            value = getattr(self, part)
            if isinstance(value, type):  # a class also has the methods a part needs
                raise TypeError(f"{part}= takes an object, got the class {value.__name__} "
                                f"(pass {value.__name__}(...))")
        super()._check_params(num_nodes)
        if self.encoder is None:
            self._default_encoder()  # validates the architecture parameters
        start = self._start_part()
        start.check(self._encoder_config(), int(self.embedding_dim))
        if self._needs_decoder():
            self._decoder_widths()

    def _needs_decoder(self) -> bool:
        """Whether ``hidden_dims`` shapes a decoder (the objective's or the start's)."""
        return (self._objective_part().reconstruction is not None
                or getattr(self._start_part(), "needs_decoder", False))

    def _default_encoder(self) -> EncoderConfig:
        """The encoder built from the estimator's own architecture parameters."""
        raise NotImplementedError

    def _encoder_config(self) -> EncoderConfig:
        return self._default_encoder() if self.encoder is None else self.encoder

    def _passes_messages(self) -> bool:
        """Whether the encoder itself reads the edges (message passing)."""
        return self._encoder_config().uses_graph

    def _propagates_inputs(self) -> bool:
        """Whether the encoder's input is propagated over the edges (``propagation_steps``,
        ``input_hops``)."""
        return self.propagation_steps > 0 or self.input_hops > 0

    def _uses_graph(self) -> bool:
        return self._passes_messages() or self._propagates_inputs()

    def _input_width(self) -> int:
        """Width of the encoder's input: the transformed features and their hops."""
        return self.n_features_in_ * (1 + self.input_hops)

    def _encoder_features(self, x: torch.Tensor, edge_index: torch.Tensor | None):
        """The encoder's input for raw features ``x`` (:meth:`_propagated`)."""
        return self._propagated(self.transform_.transform(x), edge_index)

    def _propagated(self, features: torch.Tensor, edge_index: torch.Tensor | None):
        """Transformed ``features`` propagated ``propagation_steps`` times, with
        ``input_hops`` further propagated copies beside them."""
        steps = self.propagation_steps  # with neither, the features as they are (no edges)
        blocks = propagation_powers(features, edge_index, steps, steps + self.input_hops)
        return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=1)

    def _decoder_widths(self) -> tuple[int, ...]:
        """``hidden_dims``, which a decoder mirrors; a clear error where there are none
        (also for a start that calls ``decoder()`` without ``needs_decoder``)."""
        if "hidden_dims" not in self._parameters:
            raise ValueError(
                f"a decoder (an objective with reconstruction, or a start that trains one) "
                f"mirrors hidden_dims, which {type(self).__name__} does not have")
        return check_positive_ints("hidden_dims", self.hidden_dims)

    def _decoder(self) -> MLP:
        """SDCN's mirror-image decoder ``embedding - reversed(hidden_dims) - inputs``."""
        hidden = self._decoder_widths()
        return MLP([int(self.embedding_dim), *hidden[::-1], self._input_width()])

    # ------------------------------------------------------------------ parts
    def _start_part(self, features_kind: str | None = None):
        """``start``, or the start the flat parameters describe (``pretrain``...);
        ``features_kind``, the fitted transform's kind, decides whether an untaught
        linear start's directions are equalised (``LinearStart.whiten_untaught``)."""
        if self.start is not None:
            return self.start
        if self.pretrain == "none":
            return NoStart()
        auto_lr = 1e-2 if self.pretrain == "linear" else 1e-3
        auto_decay = 1e-4 if self.pretrain == "linear" else 0.0
        lr = auto_lr if isinstance(self.pretrain_lr, str) else float(self.pretrain_lr)
        decay = auto_decay if isinstance(self.pretrain_weight_decay, str) \
            else float(self.pretrain_weight_decay)
        if self.pretrain == "autoencoder":
            return AutoencoderStart(epochs=self.pretrain_epochs, lr=lr, weight_decay=decay)
        settings = {"steps": self.pretrain_epochs, "lr": lr, "weight_decay": decay,
                    "holdout": self.start_holdout, "check_interval": self.check_interval}
        if self.pretrain == "contrastive":
            return ContrastiveStart(**settings)
        return LinearStart(**settings, whitening=self.start_whitening,
                           whiten_untaught=features_kind in (None, *SHIFTED_KINDS))

    def _objective_part(self) -> ClusteringObjective:
        """``objective``, or the objective the flat parameters describe."""
        if self.objective is not None:
            return self.objective
        return ClusteringObjective(
            contrastive=NeighborContrast(self.tau), clustering=SelfTraining(self.size_prior),
            reconstruction=Reconstruction() if self._reconstruction else None,
            alpha=self.alpha, beta=self.beta)

    def _sampler_part(self, num_nodes: int, batch_size: int | None):
        """``sampler``, or the sampler of the resolved ``batch_size`` (``None``: the full
        graph; an explicit batch as large as the graph is the full graph too)."""
        if self.sampler is not None:
            return self.sampler
        if batch_size is None and self.batch_size not in (None, "auto"):  # an int too large
            warnings.warn(
                f"batch_size={self.batch_size} is not smaller than the graph ({num_nodes} "
                "nodes): training full-batch with exact positives", UserWarning,
                stacklevel=user_stacklevel())
        if batch_size is None:
            return FullGraphSampler(self.order, self._positive_kind, self.exclude_isolated)
        return RandomWalkSampler(batch_size, self.num_walks, self.order,
                                 self._positive_kind, self.exclude_isolated, self.fanout)

    def _memory_sizes(self) -> dict:
        """This estimator's arguments of :func:`graphclust.memory.estimate_peak_memory`; hidden
        widths: ``hidden_dims``, else ``hidden_channels`` once a layer, else none."""
        config, start = self._encoder_config(), self._start_part()
        hidden = config.hidden_dims if hasattr(config, "hidden_dims") else (
            (int(config.hidden_channels),) * int(getattr(config, "num_layers", 1))
            if hasattr(config, "hidden_channels") else ())
        snapshots = start.held_out_snapshots() if isinstance(start, ContrastiveStart) else 0
        passing = message_passing_sizes(config, getattr(self.sampler, "fanout", self.fanout))
        return dict(hidden_dims=hidden, embedding_dim=int(self.embedding_dim),
                    n_clusters=self.n_clusters, order=getattr(self.sampler, "order", self.order),
                    num_walks=getattr(self.sampler, "num_walks", self.num_walks),
                    check_interval=self.check_interval, start_snapshots=snapshots,
                    held_out=start.holdout if snapshots else 0.0,  # a 0-step start: no check
                    held_out_input=self._propagates_inputs() and snapshots > 0,
                    linear_start=isinstance(start, LinearStart), message_passing=passing)

    def _planned_batch_size(self, graph, world_size: int) -> int | None:
        """The batch size this fit trains with (``None``: full batch), checked against the
        device's available memory before any work (:mod:`graphclust.memory`). Sizes come
        from the graph's tensors only.

        ``"auto"`` asks :func:`graphclust.memory.choose_batch_size`; an int (smaller than the
        graph), ``None`` or a ``sampler`` object's ``batch_size`` (none: full batch) is checked
        as given. ``"auto"`` and an int are at most one of ``world_size`` processes' share.
        """
        n_nodes, n_edges = graph.num_nodes, int(graph.edge_index.shape[1])
        sizes = self._memory_sizes()
        n_features, device = self._input_width(), graph.x.device
        available = memory_to_check(device)
        auto = self.sampler is None and self.batch_size == "auto"
        requested = getattr(self.sampler, "batch_size", None) if self.sampler is not None \
            else self.batch_size
        # A given sampler is used as it is: its batch size is the one trained with. An int
        # as large as the graph is full batch in one process (several: capped below).
        whole = requested is None or auto or (
            self.sampler is None and requested >= n_nodes and world_size == 1)
        batch = None if whole else int(requested)
        # The exact positives' bound, O(order * edges): only full batch builds them.
        pairs = positive_pair_bound(graph.edge_index, n_nodes, sizes["order"]) \
            if auto or batch is None else None
        if auto:
            batch = memory_check_in_every_process(lambda: choose_batch_size(
                n_nodes, n_edges, n_features, available_bytes=available,
                n_positive_pairs=pairs, device_name=str(device),
                passes_messages=self._passes_messages(), max_batches=EPOCH_BATCHES,
                **sizes), device)
            # Each process fits the batch to its own free memory: the processes of a
            # distributed job take the smallest, so every epoch has as many steps in each.
            agreed = agreed_minimum(n_nodes if batch is None else batch, device)
            batch = None if agreed >= n_nodes else agreed
        if world_size > 1 and self.sampler is None and self.batch_size is not None:
            # Processes share each epoch's seeds (NodeBatchPlan): a batch is one process's
            # share at most (the plan cuts it so), also where one process trains full batch.
            batch = min(batch or n_nodes, math.ceil(n_nodes / world_size))
        estimate = estimate_peak_memory(n_nodes, n_edges, n_features, batch_size=batch,
                                        n_positive_pairs=pairs, **sizes)
        setting = "full batch" if batch is None else f"batch_size={batch}"
        memory_check_in_every_process(
            lambda: check_fits(estimate, available, str(device), setting), device)
        asked = f"batch_size={self.batch_size!r}" if self.sampler is None \
            else f"{type(self.sampler).__name__}'s batch size"
        self._report(f"{type(self).__name__}: {asked} -> {setting} "
                     f"({n_nodes} nodes, {n_edges} edge entries), estimated peak memory "
                     f"{estimate.total / 2**30:.2f} GiB of {available / 2**30:.2f} GiB "
                     f"available on {device}")
        return batch

    # ------------------------------------------------------------------ training
    def _fit_graph(self, graph, seed, labels) -> None:
        rank, world_size = distributed_context()
        self.batch_size_ = self._planned_batch_size(graph, world_size)
        device = graph.x.device
        generator = torch.Generator(device=device).manual_seed(seed)
        features = self._fit_transform_features(graph)
        warn_if_edges_disagree(features, graph.edge_index, reads_graph=self._uses_graph())
        sampler = self._sampler_part(graph.num_nodes, self.batch_size_)
        batches = sampler.batches(graph.edge_index, graph.num_nodes, seed, rank, world_size)
        objective = self._objective_part()
        encoder = self._build_encoder().to(device)

        def encoder_rows(edge_index):
            """The encoder's input over ``edge_index``, as CSR rows when the encoder takes
            them and they are faster (once per fit, and once more for the held-out run
            of propagated inputs)."""
            return sparse_rows_if_faster(encoder, self._propagated(features, edge_index))

        x = encoder_rows(graph.edge_index)
        decoder = self._decoder().to(device) if objective.reconstruction is not None else None
        head = StudentTHead(self.n_clusters, int(self.embedding_dim)).to(device)
        inputs = EncoderInputs(x, graph.edge_index if self._passes_messages() else None,
                               sampler.fanouts(getattr(encoder, "num_layers", 0)), generator,
                               features_over=encoder_rows if self._propagates_inputs() else None)
        run = TrainingRun(inputs, graph.edge_index, sampler, batches, seed,
                          int(self.embedding_dim), self.n_clusters, self.normalize_embedding,
                          rank, world_size, progress=self._progress, name=type(self).__name__,
                          report=lambda message: self._report(
                              f"{type(self).__name__}: {message}"))
        self.history_ = run.history
        trained = train_clusterer(
            encoder, head, decoder, run, start=self._start_part(self.transform_.kind_),
            objective=objective,
            config=self._encoder_config(), labels=labels,
            schedule=Schedule(self.lr, self.max_epochs, self.tol, self.check_interval),
            make_decoder=lambda: decoder if decoder is not None else self._decoder().to(device))
        self.encoder_, self.head_, self.decoder_ = trained.encoder, head, decoder
        self.n_iter_ = trained.n_iter
        self.start_length_ = start_length(run.history)
        self.embedding_ = trained.embedding.cpu().numpy()
        self.labels_ = trained.labels.cpu().numpy()
        self.cluster_centers_ = head.centers.detach().cpu().numpy()

    def _build_encoder(self) -> nn.Module:
        return self._encoder_config().build(self._input_width(), int(self.embedding_dim))

    # ------------------------------------------------------------------ inference
    def _embed(self, x: torch.Tensor, edge_index: torch.Tensor | None) -> torch.Tensor:
        x = sparse_rows_if_faster(self.encoder_, self._encoder_features(x, edge_index))
        z = encode_all(self.encoder_, x, edge_index if self._passes_messages() else None)
        return torch.nn.functional.normalize(z, dim=1) if self.normalize_embedding else z


