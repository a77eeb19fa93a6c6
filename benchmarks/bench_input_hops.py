"""SCGC* with and without propagated inputs (``input_hops``), beside the no-training baselines.

For each data set and seed: ``SCGCStar`` with its defaults (``input_hops=0``: an MLP over
the features alone), with ``input_hops=2`` (the MLP reads the features and their
propagations over one and two hops) and on the two-step propagation alone
(``S^2 T(X)``, ``propagation_steps=2``; the run of ``input_propagated.md`` built it by hand
with ``features="none"`` before the parameter existed: the same inputs, and the same
labels on digits, seed 0),
``svd-kmeans`` at t = 0 and t = 2 and ``degree-kmeans``; ``--models`` picks some of them.
Label-free signals a rule choosing between the inputs could rest on are reported beside
ACC / NMI: each partition's modularity on the graph (Q) and the joint-stage epochs before
the stopping rule fired (*epochs*, per seed). ``sbm-weak`` is ``make_sbm`` at 4,000 nodes
in the setting of ``bench_scale_quality`` (weak features; the edges carry the clusters).

    OMP_NUM_THREADS=1 python -m benchmarks.bench_input_hops \\
        --datasets sbm-weak,dblp,cora,uat,eat,bat,photo --seeds 3
    OMP_NUM_THREADS=1 python -m benchmarks.bench_input_hops --models "scgc-star,scgc-star on \\
        S^2 T(X)" --datasets sbm-weak,dblp,cora,uat,eat,bat,photo,digits --seeds 3 \\
        --out benchmarks/results/input_propagated.md

writes benchmarks/results/input_hops.md (``--out`` elsewhere).
"""

from __future__ import annotations

import statistics
import time

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    load_average,
    parse,
    results_header,
    script_parser,
    write_results,
)
from benchmarks.bench_scale_quality import GRAPH

MODULE = "benchmarks.bench_input_hops"
SYNTHETIC = "sbm-weak"
SYNTHETIC_NODES = 4000


PROPAGATED = "scgc-star on S^2 T(X)"


def models(k: int, seed: int, tiny_fit: dict) -> dict:
    from graphclust import DegreeKMeans, SCGCStar, SVDKMeans

    return {
        "scgc-star": SCGCStar(n_clusters=k, random_state=seed, **tiny_fit),
        "scgc-star input_hops=2": SCGCStar(n_clusters=k, random_state=seed, input_hops=2,
                                           **tiny_fit),
        PROPAGATED: SCGCStar(n_clusters=k, random_state=seed, propagation_steps=2,
                             **tiny_fit),
        "svd-kmeans t=0": SVDKMeans(n_clusters=k, random_state=seed),
        "svd-kmeans t=2": SVDKMeans(n_clusters=k, random_state=seed, propagation_steps=2),
        "degree-kmeans": DegreeKMeans(n_clusters=k, random_state=seed),
    }


def load(name: str, root: str):
    from graphclust import load_dataset
    from graphclust.data.synthetic import make_sbm

    if name == SYNTHETIC:
        return make_sbm(SYNTHETIC_NODES, **GRAPH, random_state=0)
    return load_dataset(name, root=root)


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/input_hops.md",
                           datasets=f"{SYNTHETIC},dblp,cora,uat,eat,bat,photo", seeds=3)
    parser.add_argument("--models", default=None,
                        help="comma-separated names of the table's models (default: all)")
    args = parse(parser, argv, MODULE)
    from graphclust import evaluate
    from graphclust.metrics import modularity

    load_start = load_average()
    datasets = [TINY_DATASET] if args.tiny else args.datasets
    scores: dict[tuple[str, str], list[dict]] = {}
    for dataset in datasets:
        graph = load(dataset, args.root)
        k, y = int(graph.y.max()) + 1, graph.y.numpy()
        for seed in range(args.seeds):
            for name, model in models(k, seed, fit_params(args)).items():
                if args.models is not None and name not in args.models.split(","):
                    continue
                start = time.perf_counter()
                model.fit(graph)
                seconds = time.perf_counter() - start
                scores.setdefault((dataset, name), []).append(
                    {**evaluate(y, model.labels_), "seconds": seconds,
                     "modularity": modularity(graph.edge_index, model.labels_),
                     # joint-stage epochs; a baseline's n_iter_ counts k-means steps
                     "epochs": model.n_iter_ if name.startswith("scgc") else "-"})
                print(dataset, seed, name, f"{scores[dataset, name][-1]['acc']:.3f}",
                      flush=True)
    lines = [
        *results_header("SCGC* with propagated inputs (input_hops)", args.command),
        f"Load average (1 / 5 / 15 min) at the start: {load_start}.",
        "",
        f"Mean ± std over {args.seeds} seed(s); every parameter at its default except "
        "`input_hops`" + (f" and {fit_params(args)} (--tiny)" if args.tiny else "")
        + ". Q: the partition's modularity on the graph.",
        "",
        "| data set | model | ACC | NMI | ARI | Q | fit s | epochs per seed |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for (dataset, name), runs in scores.items():
        cells = []
        for key in ("acc", "nmi", "ari", "modularity", "seconds"):
            values = [run[key] for run in runs]
            spread = statistics.pstdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f} ± {spread:.3f}" if key != "seconds"
                         else f"{statistics.mean(values):.1f}")
        epochs = " / ".join(str(run["epochs"]) for run in runs)
        lines.append(f"| {dataset} | {name} | {' | '.join(cells)} | {epochs} |")
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
