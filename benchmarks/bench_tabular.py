"""Plain feature matrices, clustered on the kNN graph the estimators build, against the baselines.

    python -m benchmarks.bench_tabular [--seeds 5] [--out benchmarks/results/tabular.md]

Data: scikit-learn's iris (150 x 4, 3 classes), wine (178 x 13, 3), breast cancer (569 x 30,
2) and digits (1,797 x 64, 10, its 8 x 8 images as a plain matrix, not the registry's
``digits`` graph), each passed to ``fit`` as a matrix: the estimator builds the
``n_neighbors``-nearest-neighbour cosine graph of the rows as its feature transform gives
them. Models, each with its defaults unless named: SCGC*; SCGC* with ``features="tfidf"``
(what ``"auto"`` resolved to on every non-negative matrix before
:data:`graphclust.data.transforms.UNIT_SPREAD`; where every column's IDF is about 1, as on
iris, wine and breast cancer, its kNN graph is the raw rows' cosine graph, which the
estimators built before they read the transformed rows); SCGC* given that raw-row graph
(``adjacency=``, the same ``n_neighbors``); SCGC* with ``input_hops=2``; ``svd-kmeans``
at t = 0..3 propagation steps; ``degree-kmeans``.
Per data set: the transform ``"auto"`` resolves to and the columns' spread
(:func:`graphclust.data.transforms.unit_spread`).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import datasets

from benchmarks._machine import parse, results_header, script_parser, write_results
from graphclust import evaluate
from graphclust.benchmark import build_estimator
from graphclust.data import knn_graph
from graphclust.data.transforms import FeatureTransform, unit_spread

DATASETS = {"iris": datasets.load_iris, "wine": datasets.load_wine,
            "breast-cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}
# (model, parameters, whether it is given the raw rows' kNN graph as adjacency=)
MODELS = [("scgc-star", {}, False), ("scgc-star", {"features": "tfidf"}, False),
          ("scgc-star", {}, True), ("scgc-star", {"input_hops": 2}, False),
          *[("svd-kmeans", {"propagation_steps": t}, False) for t in range(4)],
          ("degree-kmeans", {}, False)]
TINY = {"hidden_dims": (16,), "embedding_dim": 4, "pretrain_epochs": 2, "max_epochs": 2}


def _label(model: str, params: dict, raw_graph: bool) -> str:
    return model + "".join(f", {key}={value}" for key, value in params.items()) + (
        ", raw-row graph" if raw_graph else "")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/tabular.md",
                           datasets=",".join(DATASETS), seeds=5, root=False)
    args = parse(parser, argv, "benchmarks.bench_tabular")
    names = ["iris"] if args.tiny else args.datasets
    lines = ["ACC / NMI, mean ± std over seeds 0.."
             f"{args.seeds - 1}; the best ACC and NMI of each data set in bold. *Untaught "
             "starts*: the seeds whose start found that the edges teach the encoder "
             "nothing (`start_length_` None): that model is k-means on the features' "
             "principal directions (whitened where the transform standardised the "
             "columns), no training (0 for the baselines).", ""]
    for name in names:
        loaded = DATASETS[name]()
        x, y = loaded.data.astype(np.float32), loaded.target
        k = int(y.max()) + 1
        kind = FeatureTransform("auto").fit(torch.from_numpy(x)).kind_
        rows = []
        for model, params, raw_graph in MODELS:
            extra = TINY if args.tiny and model == "scgc-star" else {}
            scores, untaught = [], 0
            for seed in range(args.seeds):
                estimator = build_estimator(model, {**params, **extra}, n_clusters=k,
                                            random_state=seed)
                graph = knn_graph(torch.from_numpy(x), k=estimator.n_neighbors,
                                  metric="cosine") if raw_graph else None
                scores.append(evaluate(y, estimator.fit(x, adjacency=graph).labels_))
                # An untaught start: the model is k-means on the principal directions.
                untaught += hasattr(estimator, "start_length_") and \
                    estimator.start_length_ is None
            rows.append((_label(model, params, raw_graph), untaught,
                         *(np.array([s[m] for s in scores]) for m in ("acc", "nmi"))))
            print(f"{name}: {rows[-1][0]} ACC {rows[-1][2].mean():.3f}", flush=True)
        best = [max(row[i].mean().round(3) for row in rows) for i in (2, 3)]
        lines += [f"## {name} ({x.shape[0]} x {x.shape[1]}, {k} classes; `\"auto\"` -> "
                  f"{kind}, unit spread {unit_spread(torch.from_numpy(x)):.1f})", "",
                  "| model | ACC | NMI | untaught starts |", "|---|---:|---:|---:|"]
        for label, untaught, *values in rows:
            cells = [f"{v.mean():.3f} ± {v.std():.3f}" for v in values]
            cells = [f"**{c}**" if v.mean().round(3) == b else c
                     for c, v, b in zip(cells, values, best, strict=True)]
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {untaught} |")
        lines.append("")
    write_results(args.out, [*results_header(
        "Plain feature matrices: SCGC* on the kNN graph it builds, and the baselines",
        args.command), *lines])


if __name__ == "__main__":
    main()
