"""SCGC and SCGC*: MLP encoders trained with neighbour-contrastive losses (Kulatilleke et
al., "SCGC: Self-Supervised Contrastive Graph Clustering", 2022).

* :class:`SCGC` keeps SDCN's autoencoder: loss :math:`\\beta\\,\\mathrm{KL}(P\\|Q) +
  \\alpha\\,\\mathcal L_{NC}(W = \\hat A^r) + \\mathrm{MSE}(\\hat x, x)`.
* :class:`SCGCStar` keeps only the encoder and uses the influence-augmented positives:
  :math:`\\beta\\,\\mathrm{KL}(P\\|Q) + \\alpha\\,\\mathcal L_{IAC}(W = \\sum_{l\\le r}\\hat A^l)`.

Both predict without a graph: the encoder is an MLP over node features.
"""

from __future__ import annotations

import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.base import BaseGraphClusterer, _check_int, _check_real
from graphclust.estimators.contrastive_batches import FullGraphBatches, SampledBatches
from graphclust.kmeans import kmeans
from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP
from graphclust.objectives.clustering import kl_clustering_loss, target_distribution
from graphclust.objectives.contrastive import neighbor_contrastive_loss

__all__ = ["SCGC", "SCGCStar", "PRETRAIN_MODES"]

PRETRAIN_MODES = ("contrastive", "autoencoder", "none")


class _SCGCBase(BaseGraphClusterer):
    r"""Shared training of SCGC and SCGC*; subclasses fix the positives and the decoder.

    Training runs in three stages: a start of the encoder (``pretrain``), k-means on the
    embeddings to place the Student-t centres, then joint training of
    :math:`\beta\,\mathrm{KL}(P\|Q) + \alpha\,\mathcal L_{NC}` (+ reconstruction for
    SCGC) until the label-free stopping rule fires or ``max_epochs`` is reached.

    Parameters
    ----------
    n_clusters : int
        Number of clusters, at least 2 and at most the number of nodes.
    alpha, beta : float
        Weights of the contrastive and the KL clustering terms in the joint stage.
    tau : float
        Inverse temperature multiplying cosine similarities in the contrastive loss.
    order : int
        :math:`r`, hops of the positives (:math:`\hat A^r` or :math:`\sum_{l\le r}\hat A^l`).
    lr, pretrain_lr : float
        Adam learning rates of the joint stage and of the start.
    max_epochs : int
        Upper bound on joint-stage epochs.
    pretrain : {"contrastive", "autoencoder", "none"}
        How the encoder is started: ``pretrain_epochs`` epochs of the contrastive loss
        alone (default), SDCN's autoencoder recipe (batches of 256, MSE), or nothing.
    pretrain_epochs : int
        Length of the start. For the contrastive start it counts optimizer steps: full-batch
        epochs, or seed batches in mini-batch training (the start is measured in Adam steps,
        which do not shrink with the batch). For the autoencoder start it counts epochs.
    hidden_dims : int or sequence of int
        Hidden widths of the MLP encoder (the decoder mirrors them).
    embedding_dim : int
        Output width of the encoder.
    features : {"auto", "tfidf", "l2", "standardize", "none"}
        Graph-free input transform (:class:`graphclust.data.transforms.FeatureTransform`).
    n_neighbors : int
        Neighbours of the cosine kNN graph built when ``fit`` gets a plain matrix.
    batch_size : int or None
        ``None``: full graph with exact positives. An int: seed batches of that size
        with random-walk positives (``num_walks`` walks per seed); memory then grows
        linearly with the graph.
    num_walks : int
        Walks per seed node estimating its positives in mini-batch training.
    exclude_isolated : bool
        Leave nodes without edges out of the contrastive average (their only positive
        is themselves, so their term is pure repulsion); they are still clustered and
        still serve as negatives.
    normalize_embedding : bool
        Cluster the L2-normalised embeddings (the contrastive loss only sees directions).
    tol, check_interval : float, int
        Stop once fewer than ``tol`` of the nodes changed cluster over the last
        ``check_interval`` epochs (DEC's rule over a window). ``tol=0`` runs all epochs.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    random_state : int, RandomState or None
        Seeds weights, batches, walks and k-means. Same seed, same labels.
    verbose : bool
        Show a progress bar over epochs.

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        Cluster of each training node (argmax of :math:`Q` of the final model).
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
    embedding_ : ndarray of shape (n_nodes, embedding_dim)
        What the head clusters (normalised when ``normalize_embedding``).
    history_ : list of dict
        One entry per epoch of each stage: losses, fraction of changed labels, and
        ACC/NMI/ARI/F1 when labels were given to ``fit`` (never used for training).
    n_iter_ : int
        Joint-stage epochs run.
    n_features_in_ : int
    fit_time_ : float
        Seconds spent in ``fit`` after input validation.

    Notes
    -----
    The defaults were chosen on DBLP and Cora (see ``benchmarks/results/``) and are the
    same for every graph. They differ from the paper's per-data-set settings: the
    paper's small :math:`\tau` leaves the contrastive loss nearly flat on raw features,
    and its autoencoder start needs a pretrained file that is not distributed.
    """

    _positive_kind = "power"
    _reconstruction = False

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        alpha: float = 0.1,
        beta: float = 1.0,
        tau: float = 1.0,
        order: int = 2,
        lr: float = 3e-4,
        pretrain_lr: float = 1e-3,
        max_epochs: int = 200,
        pretrain: str = "contrastive",
        pretrain_epochs: int = 50,
        hidden_dims=(256,),
        embedding_dim: int = 32,
        features: str = "auto",
        n_neighbors: int = 10,
        batch_size: int | None = None,
        num_walks: int = 4,
        exclude_isolated: bool = True,
        normalize_embedding: bool = True,
        tol: float = 5e-3,
        check_interval: int = 10,
        device: str = "auto",
        random_state=None,
        verbose: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.beta = beta
        self.tau = tau
        self.order = order
        self.lr = lr
        self.pretrain_lr = pretrain_lr
        self.max_epochs = max_epochs
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.features = features
        self.n_neighbors = n_neighbors
        self.batch_size = batch_size
        self.num_walks = num_walks
        self.exclude_isolated = exclude_isolated
        self.normalize_embedding = normalize_embedding
        self.tol = tol
        self.check_interval = check_interval
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _validate_params(self, num_nodes: int) -> None:
        super()._validate_params(num_nodes)
        self._validate_training_params()
        _check_int("num_walks", self.num_walks, 1)
        _check_int("check_interval", self.check_interval, 1)
        _check_real("pretrain_lr", self.pretrain_lr, 0.0, strict=True)
        if self.pretrain not in PRETRAIN_MODES:
            raise ValueError(f"pretrain={self.pretrain!r} is not one of {PRETRAIN_MODES}")

    def _layer_dims(self) -> list[int]:
        hidden = self.hidden_dims
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        return [self.n_features_in_, *map(int, hidden), int(self.embedding_dim)]

    # ------------------------------------------------------------------ training
    def _contrastive_batches(self, graph, seed: int, rank: int = 0, world_size: int = 1):
        n = graph.num_nodes
        if self.batch_size is not None and self.batch_size >= n:
            warnings.warn(
                f"batch_size={self.batch_size} is not smaller than the graph ({n} nodes): "
                "training full-batch with exact positives",
                UserWarning,
                stacklevel=4,
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
        if len(batch.anchor_rows) == 0:  # only isolated nodes in this batch
            return z.sum() * 0.0
        return neighbor_contrastive_loss(
            z[batch.anchor_rows], z, batch.positive_anchor, batch.positive_candidate,
            batch.positive_weight, self.tau, self_candidate=batch.anchor_rows,
        )

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

        dims = self._layer_dims()
        self.encoder_ = MLP(dims).to(device)
        self.decoder_ = MLP(dims[::-1]).to(device) if self._reconstruction else None
        self.head_ = StudentTHead(self.n_clusters, dims[-1]).to(device)
        self.history_ = []
        self._pretrain(x, batches, generator, world_size)

        with torch.no_grad():
            start = kmeans(self._embedding(self._encode_all(x)), self.n_clusters, n_init=20,
                           generator=generator)
        self.head_.reset_parameters(start.centers)
        window = [start.labels]  # cluster labels of the last check_interval + 1 epochs

        networks = _Networks(self.encoder_, self.head_, self.decoder_, self._embedding)
        # Gradients averaged over processes; DDP also broadcasts rank 0's parameters
        # (centres included) so every process starts from the same k-means solution.
        trained = _data_parallel(networks, world_size)
        optimizer = torch.optim.Adam(networks.parameters(), lr=self.lr)
        self.n_iter_ = 0
        with self._progress(self.max_epochs, type(self).__name__) as bar:
            for epoch in range(1, self.max_epochs + 1):
                target = None
                if not isinstance(batches, FullGraphBatches):
                    # Mini-batches: P from the whole graph at the start of the epoch (DEC).
                    with torch.no_grad():
                        q_all = self.head_(self._embedding(self._encode_all(x)))
                    target = target_distribution(q_all)
                    predicted = q_all.argmax(1)
                sums = {"loss": 0.0, "kl": 0.0, "contrastive": 0.0}
                for batch in batches:
                    num_seeds = len(batch.seeds)
                    rows = x if batch.is_full_graph else x[batch.candidates]
                    z, q, reconstructed = trained(rows, num_seeds)
                    p = target_distribution(q) if target is None else target[batch.seeds]
                    kl = kl_clustering_loss(p, q)
                    nc = self._contrastive_loss(z, batch)
                    loss = self.beta * kl + self.alpha * nc
                    if reconstructed is not None:
                        reconstruction = F.mse_loss(reconstructed, rows[:num_seeds])
                        loss = loss + reconstruction
                        sums["reconstruction"] = sums.get("reconstruction", 0.0) + \
                            reconstruction.item()
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
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
            z = self._embedding(self._encode_all(x))
            q = self.head_(z)
        self.embedding_ = z.cpu().numpy()
        self.labels_ = q.argmax(1).cpu().numpy()
        self.cluster_centers_ = self.head_.centers.detach().cpu().numpy()

    def _encode_all(self, x: torch.Tensor, chunk_size: int = 65536) -> torch.Tensor:
        return torch.cat([self.encoder_(chunk) for chunk in x.split(chunk_size)])

    def _pretrain(self, x, batches, generator, world_size: int = 1) -> None:
        """Start the encoder: contrastive-only epochs, an autoencoder, or nothing.

        With several processes the contrastive start is data-parallel like training; the
        autoencoder start runs identically (same seed, same data) on every process.
        """
        if self.pretrain == "none" or self.pretrain_epochs == 0:
            return
        if self.pretrain == "contrastive":
            # One optimizer step per unit of `pretrain_epochs`, whatever the batch size: the
            # start is measured in Adam steps (a full-graph epoch is one step), because too
            # many steps erode the clusters (benchmarks/results/notes.md).
            encoder = _data_parallel(self.encoder_, world_size)
            optimizer = torch.optim.Adam(self.encoder_.parameters(), lr=self.pretrain_lr)
            stream = (batch for _ in iter(int, 1) for batch in batches)
            with self._progress(self.pretrain_epochs, "pretrain") as bar:
                for step in range(1, self.pretrain_epochs + 1):
                    batch = next(stream)
                    rows = x if batch.is_full_graph else x[batch.candidates]
                    loss = self._contrastive_loss(encoder(rows), batch)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    self.history_.append({"epoch": step, "phase": "pretrain", "loss": loss.item()})
                    if bar is not None:
                        bar.update()
                        bar.set_postfix(loss=f"{loss.item():.4f}")
            return
        # SDCN's recipe: mini-batches of 256, MSE reconstruction, Adam.
        decoder = self.decoder_ or MLP(self._layer_dims()[::-1]).to(x.device)
        parameters = list(self.encoder_.parameters()) + list(decoder.parameters())
        optimizer = torch.optim.Adam(parameters, lr=self.pretrain_lr)
        for epoch in range(1, self.pretrain_epochs + 1):
            order = torch.randperm(x.shape[0], generator=generator, device=x.device)
            total = 0.0
            for batch in order.split(256):
                loss = F.mse_loss(decoder(self.encoder_(x[batch])), x[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            self.history_.append(
                {"epoch": epoch, "phase": "pretrain", "loss": total / x.shape[0]}
            )

    # ------------------------------------------------------------------ persistence
    def _model_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"encoder.{k}": v for k, v in self.encoder_.state_dict().items()}
        tensors.update({f"head.{k}": v for k, v in self.head_.state_dict().items()})
        if self.decoder_ is not None:
            tensors.update({f"decoder.{k}": v for k, v in self.decoder_.state_dict().items()})
        return tensors

    def _restore_model(self, tensors: dict[str, torch.Tensor]) -> None:
        dims = self._layer_dims()

        def part(prefix):
            return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.encoder_ = MLP(dims)
        self.encoder_.load_state_dict(part("encoder."))
        self.head_ = StudentTHead(self.n_clusters, dims[-1])
        self.head_.load_state_dict(part("head."))
        self.decoder_ = None
        if self._reconstruction:
            self.decoder_ = MLP(dims[::-1])
            self.decoder_.load_state_dict(part("decoder."))

    # ------------------------------------------------------------------ inference
    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return self._embedding(self._encode_all(self.transform_.transform(x)))


class _Networks(nn.Module):
    """Encoder, clustering head and optional decoder as one module (one DDP unit)."""

    def __init__(self, encoder, head, decoder, embedding):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.decoder = decoder
        self.embedding = embedding  # the estimator's map from encoder output to head input

    def forward(self, rows: torch.Tensor, num_seeds: int):
        z = self.encoder(rows)
        seeds = z[:num_seeds]
        q = self.head(self.embedding(seeds))
        reconstructed = self.decoder(seeds) if self.decoder is not None else None
        return z, q, reconstructed


def distributed_context() -> tuple[int, int]:
    """``(rank, world_size)`` of an initialised torch.distributed job, else ``(0, 1)``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _data_parallel(module: nn.Module, world_size: int) -> nn.Module:
    if world_size == 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [module_device(module).index] if module_device(module).type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def module_device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


class SCGC(_SCGCBase):
    """SCGC: autoencoder + neighbour-contrastive loss with :math:`W = \\hat A^r`."""

    _positive_kind = "power"
    _reconstruction = True


class SCGCStar(_SCGCBase):
    """SCGC*: encoder only + influence-augmented contrastive loss,
    :math:`W = \\sum_{l \\le r} \\hat A^l`."""

    _positive_kind = "influence"
    _reconstruction = False
