"""Does the start's own embedding say, without labels, how long the start should run?

    python -m benchmarks.explore.start_clusterability DATA [--steps 10,30,50,100,200]

DATA: a ``benchmarks.bench_tabular`` matrix (``iris``, ``wine``, ``breast-cancer``) or an
``explore.fits`` graph spec (``cora``, ``cora:1500``, ``sbm``...). Per start length: SCGC*'s
linear start alone, exactly that long (``max_epochs=0``, ``start_holdout=None``) and not
whitened (``start_whitening=None``: the whitening would change the geometry measured);
the ACC of its labels, and a label-free clusterability of its embedding: the R² of
k-means with ``n_clusters`` clusters on the L2-normalised rows (the share of their
variance between the clusters; k-means from 5 restarts, seeded). One JSON line per
length and seed; ``--tiny``: iris, one seed, one length.
"""

from __future__ import annotations

import json

import numpy as np
from sklearn.cluster import KMeans

from benchmarks._machine import parse, script_parser
from benchmarks.bench_tabular import DATASETS
from benchmarks.explore._graphs import load_graph
from graphclust import SCGCStar, evaluate


def kmeans_r2(z: np.ndarray, n_clusters: int, seed: int) -> float:
    """Share of the variance of the L2-normalised rows of ``z`` between k-means' clusters."""
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    fitted = KMeans(n_clusters, n_init=5, random_state=seed).fit(z)
    return float(1.0 - fitted.inertia_ / ((z - z.mean(0)) ** 2).sum())


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=1)
    parser.add_argument("data", help="a tabular name or a graph spec")
    parser.add_argument("--steps", default="10,30,50,100,200",
                        help="comma-separated start lengths (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.start_clusterability")
    data = "iris" if args.tiny else args.data
    if data in DATASETS:
        loaded = DATASETS[data]()
        fitted_on, truth = loaded.data.astype(np.float32), loaded.target
    else:
        fitted_on = load_graph(data, args.root)
        truth = fitted_on.y.numpy()
    n_clusters = int(truth.max()) + 1
    lengths = [1] if args.tiny else [int(step) for step in args.steps.split(",")]
    for seed in range(args.seeds):
        for steps in lengths:
            model = SCGCStar(n_clusters=n_clusters, max_epochs=0, pretrain_epochs=steps,
                             start_holdout=None, start_whitening=None,
                             random_state=seed).fit(fitted_on)
            print(json.dumps({"data": data, "seed": seed, "steps": steps,
                              "acc": round(evaluate(truth, model.labels_)["acc"], 4),
                              "r2": round(kmeans_r2(model.embedding_, n_clusters, seed), 4)}),
                  flush=True)


if __name__ == "__main__":
    main()
