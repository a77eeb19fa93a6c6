"""Clustering with embedding prefixes: matryoshka-trained SCGC* against plain SCGC*.

    python -m benchmarks.bench_matryoshka [--seeds 5] [--root ../shared/data]

For every data set and seed, plain SCGC* (the extras recipe) and SCGC* with
``encoder=MatryoshkaMLPConfig()`` (the same MLP, contrastive loss averaged over the
prefixes 2, 4, 8, 16, 32) are fitted; then k-means (``prefix_kmeans``: L2-normalised first
``d`` columns, 20 restarts, seeded like the fit) clusters the first ``d`` columns of each
fitted embedding. The model's own labels (Student-t head on all 32 columns) are listed
too. Writes ``benchmarks/results/extras/matryoshka_prefixes.md`` (``--out``) and the
per-seed rows beside it (``.csv``).
"""

from __future__ import annotations

import csv
import time

import numpy as np

from benchmarks._machine import fit_params, parse, results_header, script_parser, write_results
from benchmarks._recipes import EXTRAS_RECIPE
from graphclust import SCGCStar, evaluate, load_dataset
from graphclust.extras.matryoshka import MatryoshkaMLPConfig, prefix_kmeans

DIMS = (2, 4, 8, 16, 32)
MODELS = {"plain": None, "matryoshka": MatryoshkaMLPConfig(dims=DIMS)}


def run(datasets: list[str], seeds: int, root: str, tiny: dict) -> list[dict]:
    rows = []
    for dataset in datasets:
        graph = load_dataset(dataset, root)
        labels = graph.y.numpy()
        n_clusters = int(labels.max()) + 1
        for model, encoder in MODELS.items():
            for seed in range(seeds):
                start = time.perf_counter()
                estimator = SCGCStar(n_clusters=n_clusters, encoder=encoder,
                                     random_state=seed,
                                     **{**EXTRAS_RECIPE, **tiny}).fit(graph)
                seconds = time.perf_counter() - start
                rows.append({"dataset": dataset, "model": model, "seed": seed,
                             "clustering": "head", "dims": 32, "train_seconds": seconds,
                             **evaluate(labels, estimator.labels_)})
                for dims in DIMS:
                    predicted = prefix_kmeans(estimator, dims, random_state=seed)
                    rows.append({"dataset": dataset, "model": model, "seed": seed,
                                 "clustering": "k-means", "dims": dims,
                                 "train_seconds": seconds, **evaluate(labels, predicted)})
                print(dataset, model, seed, f"{seconds:.1f}s", flush=True)
    return rows


def _cell(rows: list[dict], key: str) -> str:
    values = [row[key] for row in rows]
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _fit_seconds(rows: list[dict], dataset: str, model: str) -> float:
    return float(np.mean([r["train_seconds"] for r in rows if r["dataset"] == dataset
                          and r["model"] == model and r["clustering"] == "head"]))


def table(rows: list[dict], datasets: list[str], key: str) -> list[str]:
    header = ("| data set | model | " + " | ".join(f"k-means d={d}" for d in DIMS)
              + " | head (d=32) |")
    lines = [header, "|---|---|" + "---:|" * (len(DIMS) + 1)]
    for dataset in datasets:
        for model in MODELS:
            mine = [r for r in rows if r["dataset"] == dataset and r["model"] == model]
            cells = [_cell([r for r in mine if r["clustering"] == "k-means"
                            and r["dims"] == d], key) for d in DIMS]
            cells.append(_cell([r for r in mine if r["clustering"] == "head"], key))
            lines.append(f"| {dataset} | {model} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/extras/matryoshka_prefixes.md",
                           datasets="dblp,cora", seeds=5)
    args = parse(parser, argv, "benchmarks.bench_matryoshka")
    datasets = args.datasets
    rows = run(datasets, args.seeds, args.root, fit_params(args))
    csv_path = args.out.with_suffix(".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [*results_header("Matryoshka prefixes: clustering with the first d embedding "
                             "columns", args.command),
             f"Seeds 0-{args.seeds - 1}, mean ± std. Per-seed rows: `{csv_path.name}`.", "",
             "Models: `plain` = SCGC* (MLP features-256-32) under the extras recipe "
             "(`benchmarks/_recipes.py`: 50-step contrastive start); `matryoshka` = the "
             "same with `encoder=MatryoshkaMLPConfig(dims=(2, 4, 8, 16, 32))` (contrastive "
             "loss averaged over the five prefixes). `k-means d` = `prefix_kmeans`: k-means "
             "(20 restarts) on the L2-normalised first d columns of the fitted embedding; "
             "`head` = the model's own labels (Student-t head, all 32 columns).", "",
             "## ACC", "", *table(rows, datasets, "acc"), "",
             "## NMI", "", *table(rows, datasets, "nmi"), "",
             "## ARI", "", *table(rows, datasets, "ari"), "",
             "Train seconds per fit (mean): " + ", ".join(
                 f"{d}/{m} {_fit_seconds(rows, d, m):.1f}" for d in datasets for m in MODELS)
             + ".", ""]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
