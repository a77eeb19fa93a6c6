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

from sklearn.utils._param_validation import StrOptions

from graphclust.estimators.contrastive import ContrastiveClusterer
from graphclust.estimators.params import Param, at_least
from graphclust.nn.graph_transformer import GraphTransformerConfig
from graphclust.nn.mpnn_vn import MPNNVNConfig

__all__ = ["GraphTransformerClusterer", "MPNNVNClusterer"]

_PARAMETERS_DOC = """
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
        Replaces the default encoder with any encoder configuration, e.g. a variant from
        :mod:`graphclust.extras`; the architecture parameters (above, and the
        transformer's below) must then stay at their defaults (``ValueError``).
    start, objective, sampler : part objects or None
        As in :class:`graphclust.SCGCStar`: each replaces the flat parameters it
        describes, which must then stay at their defaults.
    fanout : int
        Neighbours sampled per hop around a mini-batch (``batch_size`` set).
    alpha, beta, tau, order, lr, pretrain_lr, pretrain_weight_decay, \
start_whitening, start_holdout, max_epochs, pretrain, pretrain_epochs, features, \
propagation_steps, input_hops, n_neighbors, knn_method, batch_size, num_walks, \
exclude_isolated, normalize_embedding, size_prior, tol, check_interval, device, \
random_state, verbose, n_jobs
        As in :class:`graphclust.SCGCStar`. The default start is SCGC*'s: a linear map
        trained on the features alone with the contrastive loss (``pretrain="linear"``,
        200 steps), then grown into the encoder with its message passing (and attention)
        silent, so training starts from the linear map's clusters and grows the graph
        layers from there (``from_linear`` of :class:`graphclust.nn.MPNNVNConfig` and
        :class:`graphclust.nn.GraphTransformerConfig`; the transformer keeps the map's
        direction, not its norm, which matters only with ``normalize_embedding=False``).
        ``"contrastive"`` (e.g. with ``pretrain_epochs=50``) trains the encoder itself
        instead, ``"none"`` skips the start. ``"autoencoder"``, and an objective with a
        reconstruction term, need a decoder mirroring ``hidden_dims``, which these models
        do not have: both are refused. Encoders without ``from_linear`` (the extras'
        transformer) or too narrow for the map (``hidden_channels < 2 * embedding_dim``)
        need ``"contrastive"``.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    labels_, cluster_centers_, embedding_, history_, n_iter_, start_length_, batch_size_, \
n_features_in_, fit_time_
        As in :class:`graphclust.SCGCStar`. The memory check and ``batch_size="auto"``
        count the encoder as an MLP of ``num_layers`` layers of ``hidden_channels`` plus
        its per-edge messages, the Performer attention's per-row random features and
        layer tensors and the neighbourhoods sampled around mini-batches
        (:mod:`graphclust.memory_messages`; exact attention is not counted).
    knn_graph_ : bool
        Whether ``fit`` built a kNN graph from a plain matrix (then ``predict`` builds one
        of the rows given too, and refuses a given graph: a ``Data`` or ``adjacency``).
"""


class _GraphEncoderClusterer(ContrastiveClusterer):
    _positive_kind = "influence"
    _reconstruction = False
    _parameters = {**ContrastiveClusterer._parameters,
                   "num_layers": Param(2, [at_least(1)]),
                   "hidden_channels": Param(128, [at_least(1)]),
                   "conv": Param("gcn", [StrOptions({"gcn", "gin"})])}

    def _replaced_parameters(self) -> dict[str, tuple[str, ...]]:
        architecture = tuple(name for name in self._parameters
                             if name not in ContrastiveClusterer._parameters)
        return {**super()._replaced_parameters(), "encoder": architecture}


class MPNNVNClusterer(_GraphEncoderClusterer):
    __doc__ = """SCGC*'s objective with an MPNN + virtual node encoder
    (:class:`graphclust.nn.MPNNVirtualNode`).
""" + _PARAMETERS_DOC + _ATTRIBUTES_DOC

    def _default_encoder(self) -> MPNNVNConfig:
        return MPNNVNConfig(self.hidden_channels, self.num_layers, self.conv)


class GraphTransformerClusterer(_GraphEncoderClusterer):
    __doc__ = """SCGC*'s objective with a GPS graph-transformer encoder
    (:class:`graphclust.nn.GraphTransformer`).
""" + _PARAMETERS_DOC + """    heads : int
        Attention heads (``hidden_channels`` must be divisible by it).
    attention : {"performer", "full"}
        Linear-cost Performer attention, or exact attention (refused above
        ``max_full_nodes`` nodes).
    positional_encoding : {None, "random_walk", "laplacian"}
        Optional positional encodings of ``pe_dim`` columns (small graphs).
    pe_dim : int
        Columns of the positional encodings.
    max_full_nodes : int
        Largest graph exact attention accepts.
""" + _ATTRIBUTES_DOC

    _parameters = {**_GraphEncoderClusterer._parameters,
                   "hidden_channels": Param(64, [at_least(1)]),
                   "heads": Param(4, [at_least(1)]),
                   "attention": Param("performer", [StrOptions({"performer", "full"})]),
                   "positional_encoding": Param(
                       None, [StrOptions({"random_walk", "laplacian"}), None]),
                   "pe_dim": Param(8, [at_least(1)]),
                   "max_full_nodes": Param(5000, [at_least(1)])}

    def _default_encoder(self) -> GraphTransformerConfig:
        return GraphTransformerConfig(
            hidden_channels=self.hidden_channels, num_layers=self.num_layers,
            heads=self.heads, conv=self.conv, attention=self.attention,
            positional_encoding=self.positional_encoding, pe_dim=self.pe_dim,
            max_full_nodes=self.max_full_nodes)
