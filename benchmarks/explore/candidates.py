"""The trained partition among the no-training ones: can their agreement choose, without labels?

    python -m benchmarks.explore.candidates record DATASET --seeds 3 [--subgraph N] > runs.jsonl
    python -m benchmarks.explore.candidates read runs.jsonl [more.jsonl ...]

``record``: per seed, the partitions of SCGC* with its defaults (updated by ``--params``)
and of the no-training baselines every quality table carries (``svd-kmeans`` at t =
0..3 and ``degree-kmeans``), all with the same seed. For each: ACC / NMI (labels read
only to score) and the partition's modularity on the graph; for each pair: NMI and ARI
between the two partitions (label-free). One JSON line per seed. ``--edges`` trains on
other edges, as ``explore.fits`` does (e.g. ``feature-knn --knn 3 --knn-metric cosine``:
SDCN's kind of graph).

``read``: per graph, the mean ACC / NMI of SCGC*, of the best baseline (the best mean over
the seeds, chosen with the labels: what ``quality.md`` compares with), and of the
partition each label-free rule of :data:`RULES` picks from the candidates, seed by seed.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np

from benchmarks._machine import fit_params, parse
from benchmarks.explore._graphs import add_edge_options, chosen_edges, load_graph
from benchmarks.explore._lines import json_lines, record_read_parser, recorded_dataset
from graphclust import DegreeKMeans, SCGCStar, SVDKMeans, evaluate
from graphclust.metrics import modularity

#: Propagation steps of the ``svd-kmeans`` candidates (those of ``quality.md``).
SVD_STEPS = (0, 1, 2, 3)


def candidates(graph, seed: int, params: dict, features: str) -> dict[str, np.ndarray]:
    """The partitions of one seed, SCGC* first."""
    k = int(graph.y.max()) + 1
    found = {"scgc-star": SCGCStar(k, random_state=seed, **params).fit(graph).labels_}
    for steps in SVD_STEPS:
        found[f"svd-kmeans t={steps}"] = SVDKMeans(
            k, propagation_steps=steps, features=features, random_state=seed
        ).fit_predict(graph)
    found["degree-kmeans"] = DegreeKMeans(k, random_state=seed).fit_predict(graph)
    return found


def record_seed(graph, seed: int, params: dict, features: str) -> dict:
    labels = graph.y.numpy()
    found = candidates(graph, seed, params, features)
    names = list(found)
    scores = {name: evaluate(labels, found[name]) for name in names}
    pairs = {(a, b): evaluate(found[a], found[b]) for a in names for b in names if a < b}

    def between(metric: str) -> list[list[float]]:
        return [[1.0 if a == b else round(pairs[min(a, b), max(a, b)][metric], 4)
                 for b in names] for a in names]

    return {"seed": seed, "candidates": names,
            "acc": [round(scores[name]["acc"], 4) for name in names],
            "nmi": [round(scores[name]["nmi"], 4) for name in names],
            "modularity": [round(modularity(graph.edge_index, found[name], len(labels)), 4)
                           for name in names],
            "nmi_between": between("nmi"), "ari_between": between("ari")}


def _medoid(metric: str, pool: slice = slice(None)):
    """The candidate (within ``pool``) of the highest mean ``metric`` with the others."""
    def rule(row: dict) -> int:
        matrix = np.asarray(row[f"{metric}_between"])
        index = np.arange(len(matrix))[pool]
        within = matrix[np.ix_(index, index)]
        return int(index[np.argmax(within.sum(1))])
    return rule


def _highest_modularity(row: dict) -> int:
    return int(np.argmax(row["modularity"]))


#: Label-free rules that pick one candidate of a seed (an index into ``candidates``).
RULES = {
    "medoid by NMI": _medoid("nmi"),
    "medoid by ARI": _medoid("ari"),
    "medoid by NMI, without degree-kmeans": _medoid("nmi", slice(0, -1)),
    "highest modularity": _highest_modularity,
}


def read(rows: list[dict]) -> str:
    by_graph = defaultdict(list)
    for row in rows:
        by_graph[row["dataset"], row["edges"]].append(row)
    lines = ["| graph | seeds | SCGC* | best baseline | " + " | ".join(RULES) + " |",
             "|---" * (4 + len(RULES)) + "|"]
    for (dataset, edges), runs in by_graph.items():
        acc = np.array([run["acc"] for run in runs])
        nmi = np.array([run["nmi"] for run in runs])
        best = 1 + int(np.argmax(acc[:, 1:].mean(0)))
        cells = [f"{acc[:, 0].mean():.3f} / {nmi[:, 0].mean():.3f}",
                 f"{acc[:, best].mean():.3f} / {nmi[:, best].mean():.3f} "
                 f"({runs[0]['candidates'][best]})"]
        for rule in RULES.values():
            picks = [rule(run) for run in runs]
            chosen = [(run["acc"][p], run["nmi"][p]) for run, p in zip(runs, picks, strict=True)]
            mean = np.mean(chosen, axis=0)
            trained = sum(p == 0 for p in picks)
            cells.append(f"{mean[0]:.3f} / {mean[1]:.3f} ({trained}/{len(runs)} SCGC*)")
        name = dataset if edges == "given" else f"{dataset}, {edges}"
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = record_read_parser(__doc__)
    parser.add_argument("--params", type=json.loads, default={},
                        help="SCGC* parameters as JSON (default: none, the defaults)")
    add_edge_options(parser)
    args = parse(parser, argv, "benchmarks.explore.candidates")
    if args.action == "read":
        print(read(json_lines(args.inputs)))
        return
    spec = recorded_dataset(parser, args)
    graph, kind, edges = chosen_edges(load_graph(spec, args.root), args)
    # SCGC* and the baselines read the same transform.
    features = "auto" if kind is None else kind
    params = {**({} if features == "auto" else {"features": features}),
              **fit_params(args), **args.params}
    for seed in range(args.seeds):
        row = record_seed(graph, seed, params, features)
        print(json.dumps({"dataset": spec, "edges": edges, "params": params, **row}),
              flush=True)


if __name__ == "__main__":
    main()
