"""Feature homophily of the development graphs beside the models' margins over the baselines.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_feature_homophily

For every graph, the label-free statistic :func:`graphclust.data.feature_homophily` on the
features the fit reads (``features="auto"``), the number below which a fit warns
(``LOW_FEATURE_HOMOPHILY``), and, for the development set, each deep model's mean ACC and
NMI minus the best no-training baseline's (``svd-kmeans`` at its best t, ``degree-kmeans``)
from the quality runs (``benchmarks/results/quality``, ``benchmarks/results/graph_models``).
Further rows, homophily only: the random induced subgraphs of ``bench_subgraphs`` (their
scores: ``results/subgraphs/``), the weak-feature SBM of the scale benchmarks at 5,000
nodes (``results/notes_part3.md``), and each development graph with its edges shuffled
(nodes relabelled at random: the null, about 0 by construction).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._machine import parse, results_header, script_parser, write_results
from benchmarks.bench_scale_quality import GRAPH as SBM_SETTING
from benchmarks.bench_scale_quality import PROBE_NODES as SBM_NODES
from benchmarks.bench_subgraphs import induced_subgraph
from benchmarks.quality_table import DEEP_MODELS, DEVELOPMENT_SET, best_svd, model_label, read_runs
from graphclust import load_dataset
from graphclust.data import feature_homophily, make_sbm
from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.checks import LOW_FEATURE_HOMOPHILY

SAMPLES = {"cora": 1500, "photo": 3000, "cs": 4000}  # bench_subgraphs' sizes


def auto_features(graph) -> FeatureTransform:
    """The transform ``features="auto"`` resolves to on ``graph`` (its degrees decide)."""
    return FeatureTransform("auto").fit_graph(graph)


def homophily(graph) -> float:
    """Feature homophily of ``graph``'s transformed features over its own edges."""
    return feature_homophily(auto_features(graph).transform(graph.x), graph.edge_index)


def shuffled_edges(graph, seed: int = 0) -> torch.Tensor:
    """``graph``'s edges with their nodes relabelled at random (the features stay put)."""
    order = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(seed))
    return order[graph.edge_index]


def margins(results: Path) -> dict[str, dict]:
    """Data set -> the best no-training baseline by mean ACC (``"baseline"``), and per deep
    model its mean ACC minus that baseline's, its mean NMI minus the best baseline NMI and
    whether its runs predate the held-out start length, from ``results``' quality runs
    (bench_quality.sh: SCGC*, SCGC; bench_graph_models.sh: MPNN + VN, the graph
    transformer)."""
    deep, svd, degree, _ = read_runs(results / "quality", results / "graph_models")

    def means(runs: list[dict]) -> tuple[float, float]:
        return tuple(float(np.mean([float(run[m]) for run in runs])) for m in ("acc", "nmi"))

    found = {}
    for dataset in DEVELOPMENT_SET:
        svd_best = best_svd(svd, dataset)
        baselines = {f"svd-kmeans t={svd_best[0]}": means(svd_best[1])} if svd_best else {}
        if degree.get((dataset, "degree-kmeans")):
            baselines["degree-kmeans"] = means(degree[dataset, "degree-kmeans"])
        if not baselines:
            continue
        best = max(baselines, key=lambda name: baselines[name][0])
        best_nmi = max(nmi for _, nmi in baselines.values())
        found[dataset] = {"baseline": best, **{
            model: (acc - baselines[best][0], nmi - best_nmi,
                    model_label(model, deep[dataset, model]) != model)
            for model in DEEP_MODELS if deep.get((dataset, model))
            for acc, nmi in [means(deep[dataset, model])]}}
    return found


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/feature_homophily.md",
                           datasets=",".join(DEVELOPMENT_SET))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results"),
                        help="folder of bench_quality.sh's and bench_graph_models.sh's runs, "
                             "for the margins (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.bench_feature_homophily")
    found = margins(args.results)
    lines = [f"A fit warns below {LOW_FEATURE_HOMOPHILY} "
             "(`graphclust.estimators.checks.LOW_FEATURE_HOMOPHILY`), whichever model fits. "
             "Margins, ACC / NMI: a model's mean ACC minus the best no-training baseline's "
             "by ACC (named), and its mean NMI minus the best baseline NMI, from "
             f"`{args.results}/quality` and `{args.results}/graph_models`; blank where not "
             "run; † runs that predate the held-out start length (a fixed 200-step "
             "start).", "",
             "| graph | features | feature homophily | seconds | shuffled edges | best "
             "baseline (ACC) | " + " | ".join(DEEP_MODELS) + " |",
             "|---|---|---:|---:|---:|---|" + "---:|" * len(DEEP_MODELS)]
    extra = []
    for dataset in args.datasets:
        graph = load_dataset(dataset, root=args.root)
        transform = auto_features(graph)
        features = transform.transform(graph.x)
        start = time.perf_counter()  # the statistic alone, the transform not counted
        value = feature_homophily(features, graph.edge_index)
        seconds = time.perf_counter() - start
        null = feature_homophily(features, shuffled_edges(graph))
        row = found.get(dataset, {})
        scores = [f"{row[model][0]:+.3f} / {row[model][1]:+.3f}" + " †" * row[model][2]
                  if model in row else "" for model in DEEP_MODELS]
        lines.append(f"| {dataset} | {transform.kind_} | {value:.3f} | {seconds:.2f} | "
                     f"{null:.3f} | {row.get('baseline', '')} | " + " | ".join(scores) + " |")
        print(lines[-1], flush=True)
        if dataset in SAMPLES and not args.tiny:
            sample = induced_subgraph(graph, SAMPLES[dataset])
            extra.append(f"| {dataset}:{SAMPLES[dataset]} (induced subgraph) | "
                         f"{homophily(sample):.3f} |")
    if not args.tiny:
        for seed in range(2):
            sbm = make_sbm(SBM_NODES, random_state=seed, **SBM_SETTING)
            extra.append(f"| SBM, {SBM_NODES} nodes, seed {seed} ({SBM_SETTING}) | "
                         f"{homophily(sbm):.3f} |")
    lines += ["", "| graph (homophily only) | feature homophily |", "|---|---:|", *extra]
    # The header last: its date and load average are the run's end.
    write_results(args.out, [*results_header(
        "Feature homophily and the models' margins over the baselines", args.command), *lines])


if __name__ == "__main__":
    main()
