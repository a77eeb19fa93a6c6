"""The graphs the explore probes train on: data sets, their random samples, SBMs, tables
with the kNN graph ``fit(X)`` builds, and other edges for a graph's own nodes
(``explore.fits``' ``--edges``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_moons,
)

from benchmarks.bench_feature_homophily import auto_features
from benchmarks.bench_scale_quality import GRAPH as SBM_SETTING
from benchmarks.bench_scale_quality import PROBE_NODES as SBM_NODES
from benchmarks.bench_subgraphs import induced_subgraph
from graphclust import SCGCStar, load_dataset
from graphclust.data import knn_graph, make_sbm
from graphclust.data.transforms import FeatureTransform

FEATURE_NEIGHBOURS = 10
#: Tables without a graph (``table:NAME``): scikit-learn's small labelled sets, Gaussian
#: blobs well apart (``blobs``) and overlapping (``blobs-close``), and two moons in the
#: plane (``moons``: an untrained map ranks 2-D neighbours by cosine badly).
TABLES = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "breast-cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "blobs": lambda: make_blobs(1000, n_features=16, centers=5, random_state=0),
    "blobs-close": lambda: make_blobs(1000, n_features=16, centers=5, cluster_std=4.0,
                                      random_state=0),
    "moons": lambda: make_moons(1000, noise=0.1, random_state=0),
}


def load_graph(spec: str, root: str, sbm_seed: int = 0):
    """The graph ``spec`` names: a data set ``name``, ``name:N`` (``bench_subgraphs``'
    induced subgraph on N nodes, all of them where the set has fewer), ``sbm``
    (``make_sbm`` at ``bench_scale_quality``'s setting, seeded by ``sbm_seed``) or
    ``table:NAME`` (a table of :data:`TABLES`, or a data set's features without its
    edges, with the kNN graph that ``fit(X)`` builds for it at the defaults)."""
    name, _, size = spec.partition(":")
    if name == "sbm":
        return make_sbm(SBM_NODES, random_state=sbm_seed, **SBM_SETTING)
    if name == "table":
        if size in TABLES:
            x, y = TABLES[size]()
        else:  # a data set's features alone, as a user with only the matrix has them
            graph = load_dataset(size, root=root)
            x, y = graph.x.to_dense().numpy(), graph.y.numpy()
        # The estimator's own input path, so that the probe trains on the very graph a
        # user's fit(X) would (its feature transform, its k, its metric).
        return SCGCStar(int(y.max()) + 1)._graph(x, y)
    graph = load_dataset(name, root=root)
    return induced_subgraph(graph, min(int(size), graph.num_nodes)) if size else graph


def add_edge_options(parser) -> None:
    """``--edges``, ``--knn`` and ``--knn-metric``: the edges a probe trains on
    (:func:`chosen_edges`)."""
    parser.add_argument("--edges", choices=("given", "feature-knn", "feature-pruned", "none"),
                        default="given",
                        help="the edges to train on (default: the graph's own)")
    parser.add_argument("--knn", type=int, default=FEATURE_NEIGHBOURS, metavar="K",
                        help="feature-knn: neighbours; feature-pruned: edges a node keeps "
                             "(default %(default)s)")
    parser.add_argument("--knn-metric", choices=("euclidean", "cosine"), default="euclidean",
                        help="feature-knn, feature-pruned: distance (default %(default)s; "
                             "SDCN's text graphs are cosine ones)")


def chosen_edges(graph, args):
    """``graph`` with the edges of :func:`add_edge_options`' ``args``, the feature
    transform ``"auto"`` resolves to on the given graph (``None`` for its own edges: new
    edges would make ``"auto"`` read their degrees, so a probe keeps this one unless its
    parameters name another), and the edges' name for the probe's lines."""
    name = args.edges if args.edges in ("given", "none") \
        else f"{args.edges}:{args.knn}:{args.knn_metric}"
    if args.edges == "given":
        return graph, None, name
    transform = auto_features(graph)
    return with_edges(graph, args.edges, transform, args.knn, args.knn_metric), \
        transform.kind_, name


def with_edges(graph, edges: str, transform: FeatureTransform | None = None,
               neighbours: int = FEATURE_NEIGHBOURS, metric: str = "euclidean"):
    """``graph`` with the edges ``--edges`` names (``given``: unchanged); a feature kNN
    graph and a pruned one (``neighbours``, ``metric``) read the features through
    ``transform`` (default: :func:`auto_features`)."""
    if edges == "given":
        return graph
    copy = graph.clone()
    if edges == "none":
        copy.edge_index = torch.zeros(2, 0, dtype=torch.long)
        return copy
    transform = auto_features(graph) if transform is None else transform
    features = transform.transform(graph.x)
    copy.edge_index = knn_graph(features, neighbours, metric) if edges == "feature-knn" \
        else pruned_edges(features, graph.edge_index, neighbours, metric)
    return copy


def pruned_edges(x, edge_index, keep: int, metric: str = "euclidean",
                 chunk: int = 4096) -> torch.Tensor:
    """``edge_index`` cut to each node's ``keep`` neighbours nearest by ``metric`` on the
    rows of ``x``: read as undirected (both directions, each pair once, no self-loops),
    an edge stays if either end keeps it; ties keep the pair listed first. Distances are
    taken ``chunk`` edges at a time (CS's dense rows would take E x d floats at once)."""
    if keep < 1:
        raise ValueError(f"--knn must be at least 1 for feature-pruned edges, got {keep}")
    x = x.to_dense() if x.layout != torch.strided else x
    x = F.normalize(x.float(), dim=1) if metric == "cosine" else x.float()
    pairs = edge_index[:, edge_index[0] != edge_index[1]]
    source, target = torch.unique(torch.cat([pairs, pairs.flip(0)], dim=1), dim=1)
    distance = torch.cat([(x[source[i:i + chunk]] - x[target[i:i + chunk]]).pow(2).sum(1)
                          for i in range(0, source.numel(), chunk)]) if source.numel() \
        else torch.zeros(0)
    # Sort by distance, then (stably) by source: each source's edges, nearest first.
    order = torch.argsort(distance, stable=True)
    order = order[torch.argsort(source[order], stable=True)]
    counts = torch.bincount(source, minlength=x.shape[0])
    rank = torch.arange(order.numel()) - (torch.cumsum(counts, 0) - counts)[source[order]]
    kept = order[rank < keep]
    pairs = torch.stack([source[kept], target[kept]])
    return torch.unique(torch.cat([pairs, pairs.flip(0)], dim=1), dim=1)
