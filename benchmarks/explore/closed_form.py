r"""Does a closed-form linear map do the linear start's work? The spectral-contrastive answer.

    python -m benchmarks.explore.closed_form GRAPH [--seeds 2] [--components 256]

For a linear encoder :math:`z = W^\top y` the spectral contrastive loss (HaoChen et al.,
"Provable Guarantees for Self-Supervised Deep Learning with Spectral Contrastive Loss",
2021), :math:`-2\,\mathrm{tr}(W^\top M W) + \lVert W^\top C W \rVert_F^2` with
:math:`M = Y^\top P Y / N` over the positive pairs :math:`P` and :math:`C = Y^\top Y / N`,
is minimised by the top generalised eigenvectors of :math:`M w = \lambda C w`, scaled by
:math:`\lambda^{1/2}`: no training, no step count. Here :math:`Y` is the top
``--components`` principal directions' projection of the transformed features (those
with energy)
(``features="auto"``, as ``svd-kmeans`` reads them), :math:`P` is :math:`S` (order 1) or
:math:`S + S^2` (order 2) with ``svd-kmeans``' :math:`S`, and :math:`C` is ridged by
``ridge`` times its mean eigenvalue. Each row: one order, ridge and scaling, the ACC / NMI
of k-means (10 restarts) on the L2-normalised rows of the embedding's 32 dimensions, mean
over ``--seeds`` k-means seeds. One JSON line per setting; ``--tiny``: karate.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from scipy.linalg import eigh
from sklearn.cluster import KMeans

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.bench_feature_homophily import auto_features
from benchmarks.explore._graphs import load_graph
from graphclust import evaluate
from graphclust.data.principal import principal_directions
from graphclust.data.propagation import propagate

EMBEDDING_DIM = 32
RIDGES = (0.0, 0.1, 1.0)


def spectral_maps(y: np.ndarray, smoothed: np.ndarray, twice: np.ndarray, order: int,
                  ridge: float, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``dims`` generalised eigenvectors (columns) of ``(M, C + r I)``, ``r`` being
    ``ridge`` times the mean eigenvalue of ``C``, and their eigenvalues, largest first;
    ``smoothed`` is :math:`SY`, ``twice`` :math:`S^2 Y`."""
    n, width = y.shape
    positives = y.T @ smoothed if order == 1 else y.T @ (smoothed + twice)
    positives = (positives + positives.T) / (2 * n)
    covariance = y.T @ y / n
    covariance += ridge * np.trace(covariance) / width * np.eye(width)
    values, vectors = eigh(positives, covariance)
    return vectors[:, ::-1][:, :dims], values[::-1][:dims]


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("graph", help="an explore.fits graph spec (cora, cora:1500, ...)")
    parser.add_argument("--components", type=int, default=256,
                        help="principal directions the map reads (default %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.closed_form")
    graph = load_graph(TINY_DATASET if args.tiny else args.graph, args.root)
    truth = graph.y.numpy()
    n_clusters = int(truth.max()) + 1
    x = auto_features(graph).transform(graph.x)
    directions = principal_directions(x, min(args.components, x.shape[1] - 1), seed=0)
    y = (torch.sparse.mm(x, directions.T) if x.layout != torch.strided else x @ directions.T)
    smoothed = propagate(y, graph.edge_index, 1)
    twice = propagate(smoothed, graph.edge_index, 1)
    y, smoothed, twice = (part.double().numpy() for part in (y, smoothed, twice))
    # Directions without energy (digits' all-zero pixels) would make C singular.
    energy = (y ** 2).sum(axis=0)
    kept = energy > 1e-10 * energy.max()
    y, smoothed, twice = y[:, kept], smoothed[:, kept], twice[:, kept]
    dims = min(EMBEDDING_DIM, y.shape[1])
    for order in (1, 2):
        for ridge in RIDGES:
            vectors, values = spectral_maps(y, smoothed, twice, order, ridge, dims)
            for scaled in (False, True):
                z = y @ vectors * (np.sqrt(np.clip(values, 0, None)) if scaled else 1.0)
                z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
                scores = [evaluate(truth, KMeans(n_clusters, n_init=10, random_state=seed)
                                   .fit_predict(z)) for seed in range(args.seeds)]
                print(json.dumps({
                    "graph": args.graph if not args.tiny else TINY_DATASET, "order": order,
                    "ridge": ridge, "scaled": scaled, "components": y.shape[1],
                    "acc": round(float(np.mean([s["acc"] for s in scores])), 4),
                    "nmi": round(float(np.mean([s["nmi"] for s in scores])), 4)}), flush=True)


if __name__ == "__main__":
    main()
