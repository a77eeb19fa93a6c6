"""The trained embedding beside the propagated SVD one: does k-means on both hold to the
better of the two, without labels?

    python -m benchmarks.explore.blend record DATASET --seeds 3 > runs.jsonl
    python -m benchmarks.explore.blend read runs.jsonl [more.jsonl ...]

``record``: per seed, SCGC* with its defaults (updated by ``--params``) and ``svd-kmeans``
at t = 1..3, all with that seed. Scored (labels read only to score, ACC / NMI): SCGC*'s
labels (its head), k-means on its embedding alone, each ``svd-kmeans``' labels, and
k-means (20 restarts, seeded) on the two embeddings side by side, each row of each on the
unit sphere, so that the two blocks weigh the same. One JSON line per seed.

``read``: per graph, the mean of each over the seeds.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._machine import fit_params, parse
from benchmarks.explore._graphs import load_graph
from benchmarks.explore._lines import json_lines, record_read_parser, recorded_dataset
from graphclust import SCGCStar, SVDKMeans, evaluate
from graphclust.kmeans import kmeans

#: Propagation steps of the ``svd-kmeans`` embeddings put beside the trained one.
SVD_STEPS = (1, 2, 3)
RESTARTS = 20


def _scores(labels, found) -> dict:
    score = evaluate(labels, found)
    return {"acc": round(score["acc"], 4), "nmi": round(score["nmi"], 4)}


def _kmeans_labels(points: torch.Tensor, k: int, seed: int) -> np.ndarray:
    generator = torch.Generator().manual_seed(seed)
    return kmeans(points, k, n_init=RESTARTS, generator=generator).labels.numpy()


def record_seed(graph, seed: int, params: dict) -> dict:
    labels = graph.y.numpy()
    k = int(labels.max()) + 1
    trained = SCGCStar(k, random_state=seed, **params).fit(graph)
    z = F.normalize(torch.as_tensor(trained.embedding_), dim=1)
    row = {"seed": seed, "scgc-star": _scores(labels, trained.labels_),
           "embedding k-means": _scores(labels, _kmeans_labels(z, k, seed))}
    for steps in SVD_STEPS:
        svd = SVDKMeans(k, propagation_steps=steps, random_state=seed).fit(graph)
        row[f"svd-kmeans t={steps}"] = _scores(labels, svd.labels_)
        s = F.normalize(torch.as_tensor(svd.embedding_), dim=1)
        row[f"both t={steps}"] = _scores(labels, _kmeans_labels(torch.cat([z, s], 1), k, seed))
    return row


def read(rows: list[dict]) -> str:
    by_graph = defaultdict(list)
    for row in rows:
        by_graph[row["dataset"]].append(row)
    names = [name for name, value in rows[0].items()
             if isinstance(value, dict) and "acc" in value] if rows else []
    lines = ["| graph | seeds | " + " | ".join(names) + " |",
             "|---|---:|" + "---|" * len(names)]
    for graph, runs in by_graph.items():
        cells = [f"{np.mean([run[name]['acc'] for run in runs]):.3f} / "
                 f"{np.mean([run[name]['nmi'] for run in runs]):.3f}" for name in names]
        lines.append(f"| {graph} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = record_read_parser(__doc__)
    parser.add_argument("--params", type=json.loads, default={},
                        help="SCGC* parameters as JSON (default: none, the defaults)")
    args = parse(parser, argv, "benchmarks.explore.blend")
    if args.action == "read":
        print(read(json_lines(args.inputs)))
        return
    spec = recorded_dataset(parser, args)
    graph = load_graph(spec, args.root)
    params = {**fit_params(args), **args.params}
    for seed in range(args.seeds):
        print(json.dumps({"dataset": spec, "params": params,
                          **record_seed(graph, seed, params)}), flush=True)


if __name__ == "__main__":
    main()
