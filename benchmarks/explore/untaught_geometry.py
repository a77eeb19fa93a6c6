"""What an untaught start clusters: the features' principal directions, equalised or not.

    python -m benchmarks.explore.untaught_geometry iris dblp cs [--seeds 3]

Where the start finds that the edges teach nothing, SCGC* clusters the features alone:
k-means on the unit rows of the transformed features' (``features="auto"``) 32 principal
directions after the start's shrunk whitening (shrinkage 0.3, which also centres them).
Per data set and seed, three versions of that embedding, each by k-means (10 restarts) on
its unit rows: ``whitened`` (the estimators' own), ``centred`` (the mean taken off, no
equalising) and ``raw`` (neither, the projection ``svd-kmeans`` reads); the ACC / NMI of
each and a label-free stability score, the mean pairwise ARI of five single-restart
k-means runs. DATA: a registry data set (its graph is not read) or one of
``benchmarks.bench_tabular``'s scikit-learn matrices. One JSON line per data set (means
over the seeds); ``--tiny``: karate, one seed.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score
from torch import nn

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.bench_feature_homophily import auto_features
from benchmarks.bench_tabular import DATASETS as MATRICES
from graphclust import evaluate, load_dataset
from graphclust.data.principal import principal_directions
from graphclust.data.transforms import FeatureTransform
from graphclust.kmeans import kmeans
from graphclust.nn.whitening import whiten_linear_

DIRECTIONS = 32  # SCGC*'s embedding_dim
SHRINKAGE = 0.3  # SCGC*'s start_whitening
STABILITY_RUNS = 5


def transformed_features(name: str, root: str) -> tuple[torch.Tensor, np.ndarray]:
    if name in MATRICES:
        loaded = MATRICES[name]()
        x = torch.from_numpy(loaded.data.astype(np.float32))
        return FeatureTransform("auto").fit(x).transform(x), loaded.target
    graph = load_dataset(name, root=root)
    x = auto_features(graph).transform(graph.x)
    return x.to_dense() if x.layout != torch.strided else x, graph.y.numpy()


def embeddings(x: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    directions = principal_directions(x, DIRECTIONS, seed)
    raw = x @ directions.T
    whitened_map = nn.Linear(x.shape[1], len(directions))
    with torch.no_grad():
        whitened_map.weight.copy_(directions)
        whitened_map.bias.zero_()
        whiten_linear_(whitened_map, raw, SHRINKAGE)
        whitened = whitened_map(x)
    return {"whitened": whitened, "centred": raw - raw.mean(0), "raw": raw}


def scores(z: torch.Tensor, y: np.ndarray, k: int, seed: int) -> list[float]:
    z = F.normalize(z, dim=1)
    labels = kmeans(z, k, generator=torch.Generator().manual_seed(seed)).labels.numpy()
    runs = [kmeans(z, k, n_init=1, generator=torch.Generator().manual_seed(
        STABILITY_RUNS * seed + run)).labels.numpy() for run in range(STABILITY_RUNS)]
    stability = np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(runs, 2)])
    found = evaluate(y, labels)
    return [found["acc"], found["nmi"], float(stability)]


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=3)
    parser.add_argument("data", nargs="+")
    args = parse(parser, argv, "benchmarks.explore.untaught_geometry")
    for name in [TINY_DATASET] if args.tiny else args.data:
        x, y = transformed_features(name, args.root)
        k = int(y.max()) + 1
        rows: dict[str, list] = {}
        for seed in range(args.seeds):
            for kind, z in embeddings(x, seed).items():
                rows.setdefault(kind, []).append(scores(z, y, k, seed))
        means = {kind: [round(float(v), 4) for v in np.mean(found, 0)]
                 for kind, found in rows.items()}
        print(json.dumps({"data": name, "seeds": args.seeds,
                          "acc_nmi_stability": means}), flush=True)


if __name__ == "__main__":
    main()
