"""Baselines of Cai et al.'s MPNN/GT comparison trained with SCGC*'s objective.

:class:`MPNNVNClusterer` (MPNN + virtual node, :mod:`graphclust.nn.mpnn_vn`) and
:class:`GraphTransformerClusterer` (GPS, :mod:`graphclust.nn.graph_transformer`) share
everything with :class:`graphclust.SCGCStar` (influence-augmented contrastive loss, linear
start, Student-t/KL head, k-means start, stopping rule, samplers, metrics) except the encoder,
so comparisons between the three measure the encoder alone.

They are transductive: the encoder passes messages, so ``predict``, ``predict_proba`` and
``transform`` need the graph (a ``Data``, or X with ``adjacency=``; a plain matrix only
when ``fit`` itself built a kNN graph from a plain matrix). In mini-batch training
(``batch_size``) each batch's nodes are encoded inside their sampled ``num_layers``-hop
neighbourhoods (``fanout`` neighbours per hop); inference always runs on the whole graph.
"""

from __future__ import annotations

from graphclust.estimators.contrastive import ContrastiveClusterer
from graphclust.nn.config import EncoderConfig
from graphclust.nn.graph_transformer import GraphTransformerConfig
from graphclust.nn.mpnn_vn import MPNNVNConfig

__all__ = ["GraphTransformerClusterer", "MPNNVNClusterer"]

_SHARED_DOC = """
    Parameters
    ----------
    n_clusters : int
        Number of clusters, at least 2 and at most the number of nodes.
    num_layers, hidden_channels : int
        Encoder depth (message-passing hops) and width.
    conv : {"gcn", "gin"}
        Local message-passing layer.
    embedding_dim : int
        Output width of the encoder.
    encoder : EncoderConfig or None
        Replaces the default encoder (and the architecture parameters above) with any
        encoder configuration, e.g. a variant from :mod:`graphclust.extras`.
    fanout : int
        Neighbours sampled per hop around a mini-batch (``batch_size`` set).
    alpha, beta, tau, order, lr, pretrain_lr, pretrain_weight_decay, \
start_whitening, start_holdout, max_epochs, pretrain, pretrain_epochs, features, n_neighbors, \
batch_size, num_walks, exclude_isolated, normalize_embedding, size_prior, tol, check_interval, \
device, random_state, verbose, n_jobs
        As in :class:`graphclust.SCGCStar`. The default start is SCGC*'s: a linear map
        trained on the features alone with the contrastive loss (``pretrain="linear"``,
        200 steps), then grown into the encoder with its message passing (and attention)
        silent, so training starts from the linear map's clusters and grows the graph
        layers from there (``from_linear`` of :class:`graphclust.nn.MPNNVNConfig` and
        :class:`graphclust.nn.GraphTransformerConfig`; the transformer keeps the map's
        direction, not its norm, which matters only with ``normalize_embedding=False``).
        ``"contrastive"`` (e.g. with ``pretrain_epochs=50``) trains the encoder itself
        instead, ``"none"`` skips the start; the autoencoder start needs a feature-only
        encoder. Encoders without ``from_linear`` (the extras' transformer) or too narrow
        for the map (``hidden_channels < 2 * embedding_dim``) need ``"contrastive"``.

    Attributes
    ----------
    labels_, cluster_centers_, embedding_, history_, n_iter_, n_features_in_, fit_time_
        As in :class:`graphclust.SCGCStar`.
    knn_graph_ : bool
        Whether ``fit`` built a kNN graph from a plain matrix (then ``predict`` builds one
        too for a plain matrix).
"""


class _GraphEncoderClusterer(ContrastiveClusterer):
    _positive_kind = "influence"
    _reconstruction = False

    def __init__(self, n_clusters: int = 8, *, num_layers: int = 2,
                 hidden_channels: int = 128, conv: str = "gcn", alpha: float = 0.03,
                 beta: float = 1.0, tau: float = 1.0, order: int = 2, lr: float = 3e-4,
                 pretrain_lr: float | str = "auto",
                 pretrain_weight_decay: float | str = "auto",
                 start_whitening: float | None = 0.3, start_holdout: float | None = None,
                 max_epochs: int = 200,
                 pretrain: str = "linear", pretrain_epochs: int = 200,
                 embedding_dim: int = 32, encoder: EncoderConfig | None = None,
                 features: str = "auto", n_neighbors: int = 10,
                 batch_size: int | None = None, num_walks: int = 4, fanout: int = 10,
                 exclude_isolated: bool = True, normalize_embedding: bool = True,
                 size_prior: str = "start", tol: float = 5e-3, check_interval: int = 10,
                 device: str = "auto", random_state=None, verbose: bool = False,
                 n_jobs: int | None = None) -> None:
        self.n_clusters = n_clusters
        self.num_layers = num_layers
        self.hidden_channels = hidden_channels
        self.conv = conv
        self.alpha = alpha
        self.beta = beta
        self.tau = tau
        self.order = order
        self.lr = lr
        self.pretrain_lr = pretrain_lr
        self.pretrain_weight_decay = pretrain_weight_decay
        self.start_whitening = start_whitening
        self.start_holdout = start_holdout
        self.max_epochs = max_epochs
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.embedding_dim = embedding_dim
        self.encoder = encoder
        self.features = features
        self.n_neighbors = n_neighbors
        self.batch_size = batch_size
        self.num_walks = num_walks
        self.fanout = fanout
        self.exclude_isolated = exclude_isolated
        self.normalize_embedding = normalize_embedding
        self.size_prior = size_prior
        self.tol = tol
        self.check_interval = check_interval
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs


class MPNNVNClusterer(_GraphEncoderClusterer):
    __doc__ = """SCGC*'s objective with an MPNN + virtual node encoder
    (:class:`graphclust.nn.MPNNVirtualNode`).
""" + _SHARED_DOC

    def _default_encoder(self) -> MPNNVNConfig:
        return MPNNVNConfig(self.hidden_channels, self.num_layers, self.conv)


class GraphTransformerClusterer(_GraphEncoderClusterer):
    __doc__ = """SCGC*'s objective with a GPS graph-transformer encoder
    (:class:`graphclust.nn.GraphTransformer`).
""" + _SHARED_DOC + """
    heads : int
        Attention heads (``hidden_channels`` must be divisible by it).
    attention : {"performer", "full"}
        Linear-cost Performer attention, or exact attention (refused above
        ``max_full_nodes`` nodes).
    positional_encoding : {None, "random_walk", "laplacian"}
        Optional positional encodings of ``pe_dim`` columns (small graphs).
"""

    def __init__(self, n_clusters: int = 8, *, num_layers: int = 2,
                 hidden_channels: int = 64, conv: str = "gcn", heads: int = 4,
                 attention: str = "performer", positional_encoding: str | None = None,
                 pe_dim: int = 8, max_full_nodes: int = 5000, alpha: float = 0.03,
                 beta: float = 1.0, tau: float = 1.0, order: int = 2, lr: float = 3e-4,
                 pretrain_lr: float | str = "auto",
                 pretrain_weight_decay: float | str = "auto",
                 start_whitening: float | None = 0.3, start_holdout: float | None = None,
                 max_epochs: int = 200,
                 pretrain: str = "linear", pretrain_epochs: int = 200,
                 embedding_dim: int = 32, encoder: EncoderConfig | None = None,
                 features: str = "auto", n_neighbors: int = 10,
                 batch_size: int | None = None, num_walks: int = 4, fanout: int = 10,
                 exclude_isolated: bool = True, normalize_embedding: bool = True,
                 size_prior: str = "start", tol: float = 5e-3, check_interval: int = 10,
                 device: str = "auto", random_state=None, verbose: bool = False,
                 n_jobs: int | None = None) -> None:
        # scikit-learn reads parameters from this signature, so each is listed here.
        super().__init__(
            n_clusters, num_layers=num_layers, hidden_channels=hidden_channels, conv=conv,
            alpha=alpha, beta=beta, tau=tau, order=order, lr=lr, pretrain_lr=pretrain_lr,
            pretrain_weight_decay=pretrain_weight_decay, start_whitening=start_whitening,
            start_holdout=start_holdout, max_epochs=max_epochs,
            pretrain=pretrain, pretrain_epochs=pretrain_epochs,
            embedding_dim=embedding_dim, encoder=encoder, features=features,
            n_neighbors=n_neighbors, batch_size=batch_size, num_walks=num_walks,
            fanout=fanout, exclude_isolated=exclude_isolated,
            normalize_embedding=normalize_embedding, size_prior=size_prior, tol=tol,
            check_interval=check_interval,
            device=device, random_state=random_state, verbose=verbose,
            n_jobs=n_jobs)
        self.heads = heads
        self.attention = attention
        self.positional_encoding = positional_encoding
        self.pe_dim = pe_dim
        self.max_full_nodes = max_full_nodes

    def _default_encoder(self) -> GraphTransformerConfig:
        return GraphTransformerConfig(
            hidden_channels=self.hidden_channels, num_layers=self.num_layers,
            heads=self.heads, conv=self.conv, attention=self.attention,
            positional_encoding=self.positional_encoding, pe_dim=self.pe_dim,
            max_full_nodes=self.max_full_nodes)
