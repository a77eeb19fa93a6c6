"""Label-free signals for the inverse temperature: k-means stability of the start's embedding.

    python -m benchmarks.explore.tau_stability GRAPH [GRAPH ...] [--seeds 2] [--taus 1,2,3]
    python -m benchmarks.explore.tau_stability overlap GRAPH [GRAPH ...]

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
One JSON line each; ``--tiny``: karate, one seed, tau 1 and 2, a 20-step start.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.bench_feature_homophily import auto_features
from benchmarks.bench_tabular import DATASETS
from benchmarks.explore.fits import load_graph, with_edges
from graphclust import SCGCStar, evaluate
from graphclust.kmeans import kmeans

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


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("graphs", nargs="*", metavar="GRAPH",
                        help="graphs (module docstring); 'overlap' first for that probe")
    parser.add_argument("--taus", default="1,2,3",
                        help="comma-separated inverse temperatures (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.tau_stability")
    probe_overlap = args.graphs[:1] == ["overlap"]
    specs = [TINY_DATASET] if args.tiny else args.graphs[probe_overlap:]
    if not specs:
        parser.error("name at least one GRAPH")
    taus = [1.0, 2.0] if args.tiny else [float(tau) for tau in args.taus.split(",")]
    for spec in specs:
        data, labels = load(spec, args.root)
        if probe_overlap:
            print(json.dumps({"graph": spec, **overlap(data)}), flush=True)
            continue
        for tau, seed in itertools.product(taus, range(args.seeds)):
            print(json.dumps(start_row(spec, data, labels, tau, seed, args.tiny)),
                  flush=True)


if __name__ == "__main__":
    main()
