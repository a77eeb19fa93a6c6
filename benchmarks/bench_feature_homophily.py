"""Feature homophily of the development graphs beside SCGC*'s margin over the baselines.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_feature_homophily

For every graph, the label-free statistic :func:`graphclust.data.feature_homophily` on the
features the fit reads (``features="auto"``), the number below which a fit warns
(``LOW_FEATURE_HOMOPHILY``), and, for the development set, SCGC*'s mean ACC and NMI minus the
best no-training baseline's (``svd-kmeans`` at its best t, ``degree-kmeans``) from the
quality runs (``benchmarks/results/quality``). Further rows, homophily only: the random
induced subgraphs of ``bench_subgraphs`` (their scores: ``results/subgraphs/``), the
weak-feature SBM of the scale benchmarks at 5,000 nodes (``results/notes_part3.md``), and
each development graph with its edges shuffled (nodes relabelled at random: the null, about
0 by construction).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._machine import parse, results_header, script_parser, write_results
from benchmarks.bench_scale_quality import GRAPH as SBM_SETTING
from benchmarks.bench_subgraphs import induced_subgraph
from benchmarks.quality_table import DEVELOPMENT_SET, GROUP_SUFFIXES, best_svd, read
from graphclust import load_dataset
from graphclust.data import feature_homophily, make_sbm
from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.checks import LOW_FEATURE_HOMOPHILY

SAMPLES = {"cora": 1500, "photo": 3000, "cs": 4000}  # bench_subgraphs' sizes
SBM_NODES = 5000


def homophily(graph, edge_index: torch.Tensor | None = None) -> tuple[str, float, float]:
    """The transform ``features="auto"`` resolves to on ``graph``, the homophily of its
    output over ``edge_index`` (default: the graph's own edges), and the seconds
    :func:`feature_homophily` took (the transform not counted)."""
    transform = FeatureTransform("auto").fit_graph(graph)
    edges = graph.edge_index if edge_index is None else edge_index
    features = transform.transform(graph.x)
    start = time.perf_counter()
    value = feature_homophily(features, edges)
    return transform.kind_, value, time.perf_counter() - start


def shuffled_edges(graph, seed: int = 0) -> torch.Tensor:
    """``graph``'s edges with their nodes relabelled at random (the features stay put)."""
    order = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(seed))
    return order[graph.edge_index]


def margins(quality: Path) -> dict[str, tuple[float, float, str]]:
    """Data set -> SCGC* mean ACC and NMI minus the best baseline's, and that baseline."""
    deep, degree = {}, read(quality / "degree")
    svd = {t: {} for t in range(4)}
    for suffix in GROUP_SUFFIXES:
        deep.update(read(quality / f"deep{suffix}"))
        for t in range(4):
            svd[t].update(read(quality / f"svd_t{t}{suffix}"))
    found = {}
    for dataset in DEVELOPMENT_SET:
        ours = deep.get((dataset, "scgc-star"))
        svd_best = best_svd(svd, dataset)
        baselines = {f"svd-kmeans t={svd_best[0]}": svd_best[1]} if svd_best else {}
        if degree.get((dataset, "degree-kmeans")):
            baselines["degree-kmeans"] = degree[dataset, "degree-kmeans"]
        if not ours or not baselines:
            continue
        mean = {name: [np.mean([float(run[m]) for run in runs]) for m in ("acc", "nmi")]
                for name, runs in baselines.items()}
        best = max(mean, key=lambda name: mean[name][0])
        acc, nmi = (np.mean([float(run[m]) for run in ours]) for m in ("acc", "nmi"))
        found[dataset] = (acc - mean[best][0], nmi - max(m[1] for m in mean.values()), best)
    return found


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/feature_homophily.md",
                           datasets=",".join(DEVELOPMENT_SET))
    parser.add_argument("--quality", type=Path, default=Path("benchmarks/results/quality"),
                        help="bench_quality.sh's folder, for the margins (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.bench_feature_homophily")
    found = margins(args.quality)
    lines = [f"A fit warns below {LOW_FEATURE_HOMOPHILY} "
             "(`graphclust.estimators.checks.LOW_FEATURE_HOMOPHILY`). Margin: SCGC*'s mean "
             "ACC minus the best no-training baseline's by ACC (named), and its mean NMI "
             f"minus the best baseline NMI, from `{args.quality}`; blank where not run.", "",
             "| graph | features | feature homophily | seconds | shuffled edges | ACC margin | "
             "NMI margin | best baseline (ACC) |", "|---|---|---:|---:|---:|---:|---:|---|"]
    extra = []
    for dataset in args.datasets:
        graph = load_dataset(dataset, root=args.root)
        kind, value, seconds = homophily(graph)
        _, null, _ = homophily(graph, shuffled_edges(graph))
        acc, nmi, best = found.get(dataset, ("", "", ""))
        scores = f"{acc:+.3f} | {nmi:+.3f}" if best else " | "
        lines.append(f"| {dataset} | {kind} | {value:.3f} | {seconds:.2f} | {null:.3f} | "
                     f"{scores} | {best} |")
        print(lines[-1], flush=True)
        if dataset in SAMPLES and not args.tiny:
            sample = induced_subgraph(graph, SAMPLES[dataset])
            extra.append(f"| {dataset}:{SAMPLES[dataset]} (induced subgraph) | "
                         f"{homophily(sample)[1]:.3f} |")
    if not args.tiny:
        for seed in range(2):
            sbm = make_sbm(SBM_NODES, random_state=seed, **SBM_SETTING)
            extra.append(f"| SBM, {SBM_NODES} nodes, seed {seed} ({SBM_SETTING}) | "
                         f"{homophily(sbm)[1]:.3f} |")
    lines += ["", "| graph (homophily only) | feature homophily |", "|---|---:|", *extra]
    # The header last: its date and load average are the run's end.
    write_results(args.out, [*results_header(
        "Feature homophily and SCGC*'s margin over the baselines", args.command), *lines])


if __name__ == "__main__":
    main()
