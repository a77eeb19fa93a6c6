"""Can the features' columns, split in two, choose the propagation steps t without labels?

    python -m benchmarks.explore.column_split GRAPH[,GRAPH...] [--splits 3]

GRAPH is a data set name, ``name:N`` (``bench_subgraphs``' induced subgraph on N nodes) or
``sbm`` (``make_sbm`` at 5,000 nodes, ``bench_scale_quality``'s setting). The idea
(data fission): the two halves of a bag of words are two noisy views of the same classes,
so propagation that removes noise from one half should bring its partition closer to the
other half's graph-free partition, and propagation that mixes classes should move it
away. Per random column split (``--splits``, seeded 0..S-1) and each direction (A from B,
B from A): ``svd-kmeans`` with t = 0..3 steps on half A, scored by its NMI with
``svd-kmeans`` t = 0 on half B. Printed beside each t's ACC / NMI on every column (seeds
0-2, with the labels), and which t the labels would choose and which the split chooses.
One JSON line a graph; ``--tiny``: karate.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.explore._graphs import load_graph
from graphclust import SVDKMeans
from graphclust.metrics import accuracy, nmi

STEPS = range(4)
LABELLED_SEEDS = 3


def columns(graph, keep: torch.Tensor):
    """``graph`` with only the feature columns ``keep``."""
    part = graph.clone()
    part.x = graph.x[:, keep].contiguous()
    return part


def svd_labels(graph, n_clusters: int, steps: int, seed: int):
    """``svd-kmeans``' partition of ``graph`` after ``steps`` propagation steps."""
    return SVDKMeans(n_clusters=n_clusters, propagation_steps=steps,
                     random_state=seed).fit(graph).labels_


def split_scores(graph, n_clusters: int, splits: int) -> dict[int, float]:
    """t -> mean NMI of half A's partition after t steps with half B's at t = 0."""
    scores = {t: [] for t in STEPS}
    width = graph.x.shape[1]
    for split in range(splits):
        order = torch.randperm(width, generator=torch.Generator().manual_seed(split))
        halves = columns(graph, order[: width // 2]), columns(graph, order[width // 2:])
        for first, second in (halves, halves[::-1]):
            reference = svd_labels(second, n_clusters, 0, split)
            for t in STEPS:
                scores[t].append(nmi(reference, svd_labels(first, n_clusters, t, split)))
    return {t: float(np.mean(values)) for t, values in scores.items()}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None)
    parser.add_argument("graphs", help="comma-separated GRAPH items")
    parser.add_argument("--splits", type=int, default=3, help="column splits (default 3)")
    args = parse(parser, argv, "benchmarks.explore.column_split")
    specs = [TINY_DATASET] if args.tiny else args.graphs.split(",")
    for spec in specs:
        graph = load_graph(spec, args.root)
        truth = graph.y.numpy()
        n_clusters = int(truth.max()) + 1
        scored = {}
        for t in STEPS:
            runs = [svd_labels(graph, n_clusters, t, seed)
                    for seed in range(1 if args.tiny else LABELLED_SEEDS)]
            scored[t] = [round(float(np.mean([metric(truth, run) for run in runs])), 4)
                         for metric in (accuracy, nmi)]
        split = split_scores(graph, n_clusters, 1 if args.tiny else args.splits)
        print(json.dumps({"graph": spec, "acc_nmi": scored,
                          "split_nmi": {t: round(value, 4) for t, value in split.items()},
                          "t_by_labels": max(STEPS, key=lambda t: scored[t][0]),
                          "t_by_split": max(STEPS, key=lambda t: split[t])}), flush=True)


if __name__ == "__main__":
    main()
