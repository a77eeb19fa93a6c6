"""Label-free signals read off SCGC*'s start alone: for tau, and against the principal directions.

    python -m benchmarks.explore.start_signals GRAPH [GRAPH ...] [--seeds 2] [--taus 1,2,3]
    python -m benchmarks.explore.start_signals overlap GRAPH [GRAPH ...]
    python -m benchmarks.explore.start_signals pca-rank GRAPH [GRAPH ...] [--seeds 2]

GRAPH: a data set (``name``, ``name:N`` for ``bench_subgraphs``' N-node sample, as
``explore.fits`` reads it), ``name@K`` for the symmetric K-nearest-neighbour cosine graph
of its transformed features in place of its edges, or ``matrix:NAME`` for one of
``bench_tabular``'s scikit-learn matrices, passed to ``fit`` as a matrix (the estimator
builds its own kNN graph).

Default probe: per graph, tau and seed, SCGC*'s start alone (``max_epochs=0``, every other
parameter at its default) at that ``tau``; ACC / NMI of its labels, then two label-free
readings of its embedding (``transform``, L2-normalised rows, what the head's k-means
reads): ``stability_best10``, the mean pairwise ARI of 4 k-means solutions, each the best
of 10 k-means++ starts (seeds 0..3), and ``stability_single``, the mean pairwise ARI of 10
single-start k-means runs. ``overlap``: the share of a node's neighbours among its
``degree`` nearest nodes by cosine of the transformed features, averaged over up to 1,000
nodes with edges (how far the graph restates the features' neighbourhoods).
``pca-rank``: the default start alone, its held-out edges scored twice: the kept check's
held-out rank share (``HeldOutEdges.scores``) and that of the features' 32 principal
directions (the map an untaught start keeps) on the same held-out pairs, beside the
start's ACC.
One JSON line each; ``--tiny``: karate, one seed, tau 1 and 2, a 20-step start.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import torch
import torch.nn.functional as F

import graphclust.starts.contrastive as start_module
from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.bench_feature_homophily import auto_features
from benchmarks.bench_tabular import DATASETS
from benchmarks.explore._graphs import load_graph, with_edges
from graphclust import SCGCStar, evaluate
from graphclust.data.principal import principal_directions
from graphclust.kmeans import kmeans
from graphclust.objectives import HeldOutEdges

OVERLAP_NODES = 1000


def load(spec: str, root: str):
    """``(what fit takes, labels)`` for a GRAPH spec (module docstring)."""
    if spec.startswith("matrix:"):
        loaded = DATASETS[spec.partition(":")[2]]()
        return loaded.data.astype(np.float32), loaded.target
    name, _, neighbours = spec.partition("@")
    graph = load_graph(name, root)
    if neighbours:
        graph = with_edges(graph, "feature-knn", neighbours=int(neighbours), metric="cosine")
    return graph, graph.y.numpy()


def mean_pairwise_ari(partitions: list[np.ndarray]) -> float:
    return float(np.mean([evaluate(a, b)["ari"]
                          for a, b in itertools.combinations(partitions, 2)]))


def stability(z: torch.Tensor, n_clusters: int) -> dict:
    """The two k-means stabilities of the module docstring, on the rows of ``z``."""
    def runs(n_init: int, count: int) -> list[np.ndarray]:
        return [kmeans(z, n_clusters, n_init=n_init,
                       generator=torch.Generator().manual_seed(seed)).labels.numpy()
                for seed in range(count)]
    return {"stability_best10": round(mean_pairwise_ari(runs(10, 4)), 4),
            "stability_single": round(mean_pairwise_ari(runs(1, 10)), 4)}


def start_row(spec: str, data, labels: np.ndarray, tau: float, seed: int,
              tiny: bool) -> dict:
    n_clusters = int(labels.max()) + 1
    model = SCGCStar(n_clusters, tau=tau, max_epochs=0, random_state=seed,
                     **({"pretrain_epochs": 20} if tiny else {})).fit(data)
    scores = evaluate(labels, model.labels_)
    z = F.normalize(torch.as_tensor(model.transform(data), dtype=torch.float32), dim=1)
    return {"graph": spec, "tau": tau, "seed": seed, "acc": round(scores["acc"], 4),
            "nmi": round(scores["nmi"], 4), "start_length": model.start_length_,
            **stability(z, n_clusters)}


def overlap(graph) -> dict:
    """The ``overlap`` probe's share (module docstring) and the mean degree."""
    x = auto_features(graph).transform(graph.x)
    x = F.normalize((x.to_dense() if x.layout != torch.strided else x).float(), dim=1)
    row, col = graph.edge_index
    row, col = row[row != col], col[row != col]
    degree = torch.bincount(row, minlength=x.shape[0])
    with_edges_ = degree.nonzero().squeeze(1)
    nodes = with_edges_[torch.randperm(len(with_edges_),
                                       generator=torch.Generator().manual_seed(0))]
    shares = []
    for node in nodes[:OVERLAP_NODES].tolist():
        neighbours = set(col[row == node].tolist())
        similarity = x @ x[node]
        similarity[node] = -float("inf")
        nearest = torch.topk(similarity, len(neighbours)).indices.tolist()
        shares.append(len(neighbours.intersection(nearest)) / len(neighbours))
    return {"precision_at_degree": round(float(np.mean(shares)), 4),
            "mean_degree": round(float(degree.float().mean()), 2)}


def pca_rank_row(spec: str, data, labels: np.ndarray, seed: int, tiny: bool) -> dict:
    """The ``pca-rank`` probe's row (module docstring)."""
    splits = []

    class Recorded(HeldOutEdges):  # the start's own split, kept to score the other map
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            splits.append(self)

    start_module.HeldOutEdges, original = Recorded, start_module.HeldOutEdges
    try:
        model = SCGCStar(int(labels.max()) + 1, max_epochs=0, random_state=seed,
                         **({"pretrain_epochs": 20} if tiny else {})).fit(data)
    finally:
        start_module.HeldOutEdges = original
    kept = [entry for entry in model.history_ if entry.get("kept")]
    row = {"graph": spec, "seed": seed, "acc": round(evaluate(labels, model.labels_)["acc"], 4)}
    if not splits or not kept:  # too few edges to hold some out
        return {**row, "kept_rank": None, "pca_rank": None}
    x = model.transform_.transform(torch.as_tensor(getattr(data, "x", data)))
    x = x.to_dense() if x.layout != torch.strided else x
    directions = principal_directions(x, int(model.embedding_dim), seed)
    _, pca_rank = splits[0].scores((x @ directions.T)[splits[0].nodes])
    return {**row, "kept_step": kept[0]["epoch"], "untaught": bool(kept[0].get("untaught")),
            "kept_rank": round(kept[0]["held_out_rank"], 4), "pca_rank": round(pca_rank, 4)}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("graphs", nargs="*", metavar="GRAPH",
                        help="graphs (module docstring); 'overlap' or 'pca-rank' first for "
                             "that probe")
    parser.add_argument("--taus", default="1,2,3",
                        help="comma-separated inverse temperatures (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.start_signals")
    kind = args.graphs[0] if args.graphs[:1] in (["overlap"], ["pca-rank"]) else "tau"
    specs = [TINY_DATASET] if args.tiny else args.graphs[kind != "tau":]
    if not specs:
        parser.error("name at least one GRAPH")
    taus = [1.0, 2.0] if args.tiny else [float(tau) for tau in args.taus.split(",")]
    for spec in specs:
        data, labels = load(spec, args.root)
        if kind == "overlap":
            print(json.dumps({"graph": spec, **overlap(data)}), flush=True)
            continue
        if kind == "pca-rank":
            for seed in range(args.seeds):
                print(json.dumps(pca_rank_row(spec, data, labels, seed, args.tiny)), flush=True)
            continue
        for tau, seed in itertools.product(taus, range(args.seeds)):
            print(json.dumps(start_row(spec, data, labels, tau, seed, args.tiny)),
                  flush=True)


if __name__ == "__main__":
    main()
