"""Probes with the released estimator behind benchmarks/results/notes_part3.md.

    python -m benchmarks.explore.fits fit DATASET --seeds 2 --params '{"max_epochs": 0}'
    python -m benchmarks.explore.fits smooth DATASET --seeds 2 [--subgraph N]

``fit``: SCGC* with its defaults updated by ``--params``; per seed, ACC / NMI of
``labels_``, the start's length (the held-out rule's choice), the joint-stage epochs and
the stopping rule's drift every tenth epoch.
``smooth``: the default fit's embedding Z, L2-normalised after propagation, clustered by
k-means: ACC / NMI of ``S^t Z`` for t = 0..3 (S as ``svd-kmeans`` propagates) and its ARI
with ``labels_``, beside ``labels_``' scores and modularity. One JSON line per seed;
``--tiny``: karate, one seed, a few epochs.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F

from benchmarks._machine import TINY_DATASET, fit_params, parse, script_parser
from benchmarks.bench_subgraphs import induced_subgraph
from graphclust import SCGCStar, evaluate, load_dataset
from graphclust.data.propagation import propagation_powers
from graphclust.kmeans import kmeans
from graphclust.metrics import modularity

SMOOTHING_STEPS = 3


def _scores(labels, predicted) -> list[float]:
    scores = evaluate(labels, predicted)
    return [round(scores["acc"], 4), round(scores["nmi"], 4)]


def probe(kind: str, graph, seed: int, params: dict) -> dict:
    """One seed of ``kind`` (``fit`` or ``smooth``) on ``graph``."""
    labels = graph.y.numpy()
    n_clusters = int(labels.max()) + 1
    fitted = SCGCStar(n_clusters, random_state=seed, **params).fit(graph)
    row = {"seed": seed, "labels_": _scores(labels, fitted.labels_)}
    if kind == "fit":
        row["start_length"] = [entry["epoch"] for entry in fitted.history_
                               if entry.get("kept")]
        row["epochs"] = fitted.n_iter_
        # The stopping rule's signal every tenth epoch: the share of nodes whose cluster
        # changed over the last check_interval epochs (it stops below tol).
        drift = [entry["changed_window"] for entry in fitted.history_
                 if "changed_window" in entry]
        row["window_drift_every_10"] = [round(value, 4) for value in drift[::10]]
        return row
    # Label-free facts a rule could read: the partition's modularity, and how far each
    # smoothed partition is from labels_ (ARI).
    row["modularity"] = round(modularity(graph.edge_index, fitted.labels_, len(labels)), 4)
    embedding = torch.as_tensor(fitted.transform(graph), dtype=torch.float32)
    powers = propagation_powers(embedding, graph.edge_index, 0, SMOOTHING_STEPS)
    for steps, smoothed in enumerate(powers):
        predicted = kmeans(F.normalize(smoothed, dim=1), n_clusters,
                           generator=torch.Generator().manual_seed(seed)).labels.numpy()
        row[f"t{steps}"] = [*_scores(labels, predicted),
                            round(evaluate(fitted.labels_, predicted)["ari"], 4)]
    return row


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("probe", choices=("fit", "smooth"))
    parser.add_argument("dataset")
    parser.add_argument("--params", type=json.loads, default={},
                        help="SCGC* parameters as JSON (default: none, the defaults)")
    parser.add_argument("--subgraph", type=int, default=None, metavar="N",
                        help="probe the subgraph on N random nodes that bench_subgraphs "
                             "draws (a sparse graph nobody tuned on)")
    args = parse(parser, argv, "benchmarks.explore.fits")
    dataset = TINY_DATASET if args.tiny else args.dataset
    graph = load_dataset(dataset, root=args.root)
    if args.subgraph is not None:
        graph = induced_subgraph(graph, min(args.subgraph, graph.num_nodes))
        dataset = f"{dataset}:{graph.num_nodes}"
    params = {**args.params, **fit_params(args)}
    for seed in range(args.seeds):
        row = probe(args.probe, graph, seed, params)
        print(json.dumps({"dataset": dataset, "probe": args.probe, "params": args.params,
                          **row}), flush=True)


if __name__ == "__main__":
    main()
