"""Quality on random induced subgraphs of the real data sets: graphs nobody tuned on.

A subgraph keeps ``n`` nodes drawn uniformly (sample seed 0) and the edges among them, so a
graph's features stay as wide while its edges thin out by ``n / N``: a 4,000-node sample of
Coauthor CS has 6,805 features and mean degree 1.9, the regime of the sparse citation graphs
(wide features, few edges) where a contrastive start can fit the edges beyond the classes.
SCGC* runs with its defaults plus each ``--variant``'s parameters, every ``--model`` (another
registered clusterer: ``mpnn-vn``, ``graph-transformer``, ``scgc``) with its defaults; every
table carries both no-training baselines (``svd-kmeans`` for t = 0..3, ``degree-kmeans``).

Usage::

    python -m benchmarks.bench_subgraphs --graphs cs:4000,cora:1500,photo:3000 --seeds 3 \\
        --variant default= --variant no-holdout='{"start_holdout": null}' \\
        --out benchmarks/results/subgraphs
    python -m benchmarks.bench_subgraphs --graphs cora:1500,photo:3000 --model mpnn-vn \\
        --out benchmarks/results/subgraphs_graph_models
"""

from __future__ import annotations

import json
import time

import numpy as np
import scipy.sparse as sp
import torch

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    parse,
    results_header,
    script_parser,
    write_results,
)
from graphclust import DegreeKMeans, SCGCStar, SVDKMeans, load_dataset, to_graph
from graphclust.benchmark import summarize
from graphclust.metrics import evaluate
from graphclust.registry import MODELS, build_estimator


def induced_subgraph(graph, num_nodes: int, seed: int = 0):
    """The subgraph on ``num_nodes`` uniformly drawn nodes, labels renumbered 0..K-1."""
    if not 2 <= num_nodes <= graph.num_nodes:
        raise ValueError(f"a subgraph needs 2..{graph.num_nodes} nodes, got {num_nodes}")
    keep = np.sort(np.random.default_rng(seed).choice(graph.num_nodes, num_nodes, replace=False))
    position = np.full(graph.num_nodes, -1)
    position[keep] = np.arange(num_nodes)
    row, col = position[graph.edge_index.numpy()]
    inside = (row >= 0) & (col >= 0)
    adjacency = sp.coo_matrix((np.ones(int(inside.sum())), (row[inside], col[inside])),
                              shape=(num_nodes, num_nodes)).tocsr()
    labels = np.unique(graph.y.numpy()[keep], return_inverse=True)[1]
    return to_graph(graph.x.numpy()[keep], adjacency, labels)


def _parse_graphs(text: str) -> list[tuple[str, int]]:
    graphs = []
    for item in text.split(","):
        name, _, size = item.partition(":")
        if not size.isdigit():
            raise SystemExit(f"--graphs takes name:nodes items, got {item!r}")
        graphs.append((name, int(size)))
    return graphs


def _parse_variant(text: str) -> tuple[str, dict]:
    name, _, params = text.partition("=")
    return name, (json.loads(params) if params else {})


def _models(k: int, variants: list[tuple[str, dict]], fit: dict,
            others: tuple[str, ...] = ()) -> list:
    """(name, seed -> estimator) for both baselines, every SCGC* variant and the ``others``
    (registry names, with their defaults)."""
    models = [(f"svd-kmeans t={t}", lambda s, t=t: SVDKMeans(k, propagation_steps=t,
                                                               random_state=s))
              for t in range(4)]
    models.append(("degree-kmeans", lambda s: DegreeKMeans(k, random_state=s)))
    models += [(f"scgc-star {variant}",
                lambda s, p=params: SCGCStar(k, random_state=s, **{**fit, **p}))
               for variant, params in variants]
    models += [(name, lambda s, name=name: build_estimator(name, fit, n_clusters=k,
                                                           random_state=s))
               for name in others]
    return models


def _fit(estimator, graph) -> dict:
    start = time.perf_counter()
    estimator.fit(graph)
    scores = evaluate(graph.y.numpy(), estimator.labels_)
    # A contrastive clusterer's joint-stage epochs (a label-free signal, notes.md); a
    # baseline's n_iter_ counts k-means steps.
    baseline = isinstance(estimator, (SVDKMeans, DegreeKMeans))
    epochs = None if baseline else estimator.n_iter_
    return {**scores, "train_s": time.perf_counter() - start, "epochs": epochs}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/subgraphs", seeds=3)
    parser.add_argument("--graphs", default="cs:4000", help="name:nodes,... e.g. cs:4000")
    parser.add_argument("--variant", action="append", type=_parse_variant, default=None,
                        help="NAME=JSON parameters of SCGCStar (repeatable; NAME= for defaults)")
    parser.add_argument("--model", action="append", default=[], dest="models",
                        choices=sorted(set(MODELS) - {"scgc-star", "svd-kmeans",
                                                      "degree-kmeans"}),
                        help="another clusterer to fit with its defaults (repeatable)")
    args = parse(parser, argv, "benchmarks.bench_subgraphs")
    if args.tiny:
        args.graphs = f"{TINY_DATASET}:30"
    variants = args.variant or [("default", {})]
    rows = []
    for name, size in _parse_graphs(args.graphs):
        graph = induced_subgraph(load_dataset(name, root=args.root), size)
        k = int(graph.y.max()) + 1
        label = f"{name}:{size}"
        degree = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes).float()
        print(f"{label}: {graph.num_nodes} nodes, {graph.x.shape[1]} features, {k} classes, "
              f"mean degree {degree.mean():.2f}, {int((degree == 0).sum())} isolated", flush=True)
        for model, build in _models(k, variants, fit_params(args), tuple(args.models)):
            for seed in range(args.seeds):
                row = {"dataset": label, "model": model, "seed": seed, "status": "ok",
                       **_fit(build(seed), graph)}
                rows.append(row)
                print(f"  {model} seed {seed}: ACC {row['acc']:.3f} NMI {row['nmi']:.3f} "
                      f"({row['train_s']:.1f} s)", flush=True)
    summary = summarize(rows, keys=("acc", "nmi", "ari", "f1", "train_s"))
    lines = [*results_header("Quality on random induced subgraphs", args.command),
             "Variants (SCGCStar parameters over its defaults): " + "; ".join(
                 f"`{variant}` = `{json.dumps(params)}`" for variant, params in variants), "",
             "| graph | model | seeds | ACC | NMI | ARI | F1 | train s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for entry in summary:
        cells = [f"{entry[f'{key}_mean']:.3f} ± {entry[f'{key}_std']:.3f}"
                 for key in ("acc", "nmi", "ari", "f1")]
        lines.append(f"| {entry['dataset']} | {entry['model']} | {entry['runs']} | "
                     + " | ".join(cells) + f" | {entry['train_s_mean']:.1f} |")
    lines += ["", "Every run:", ""] + [
        f"- {row['dataset']} {row['model']} seed {row['seed']}: ACC {row['acc']:.3f}, "
        f"NMI {row['nmi']:.3f}, ARI {row['ari']:.3f}, {row['train_s']:.1f} s"
        + ("" if row["epochs"] is None else f", {row['epochs']} joint-stage epochs")
        for row in rows]
    write_results(args.out / "results.md", lines + [""])


if __name__ == "__main__":
    main()
