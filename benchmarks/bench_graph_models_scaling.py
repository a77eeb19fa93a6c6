"""MPNN + virtual node vs graph transformer as the graph grows (issue 6).

Cai et al. (ICML 2023) argue that an MPNN with a virtual node approximates a graph
transformer's global attention at a fraction of its cost. This measures it on our task:
attributed SBM graphs (``graphclust.data.make_sbm``, 8 clusters, 64 features, average degree
10, homophily 0.6, weak features so the graph matters) of growing size, trained with
default parameters except ``max_epochs`` (below; ``batch_size="auto"`` picks full batch or
batches of 1,024 per model and size, and the table says which), one seed; the message-passing models
also with their own contrastive start. Per model and size: final
ACC/NMI, fit time, seconds per training epoch, parameters and peak resident memory. SCGC*
(MLP encoder, no message passing at all) is the reference. Each run is a fresh subprocess,
so its peak memory is its own.

    python -m benchmarks.bench_graph_models_scaling

writes benchmarks/results/graph_models/scaling.md.
"""

from __future__ import annotations

import json
import time

from benchmarks._machine import (
    TINY_FIT,
    parse,
    peak_rss_gib,
    results_header,
    run_module,
    script_parser,
    write_results,
)

SIZES = (1_000, 4_000, 16_000)
TINY_SIZES = (200,)
#: --tiny runs the first (model, start) only: one child process checks the whole path.
TINY_RUNS = 1
# (model, start): every model with the default linear start, and the message-passing ones
# also with their own contrastive start (50 steps, the default before the linear start).
RUNS = (("scgc-star", "linear"), ("mpnn-vn", "linear"), ("mpnn-vn", "contrastive"),
        ("graph-transformer", "linear"), ("graph-transformer", "contrastive"))
STARTS = {"linear": {}, "contrastive": {"pretrain": "contrastive", "pretrain_epochs": 50}}
MAX_EPOCHS = 30


def run_one(model: str, start: str, n_nodes: int, tiny: bool) -> dict:
    from graphclust import evaluate
    from graphclust.benchmark import build_estimator, count_parameters
    from graphclust.data import make_sbm

    graph = make_sbm(n_nodes, 8, 64, avg_degree=10, homophily=0.6, feature_signal=0.5,
                     random_state=0)
    before = peak_rss_gib()
    params = {"max_epochs": MAX_EPOCHS, **STARTS[start], **(TINY_FIT if tiny else {})}
    estimator = build_estimator(model, params, n_clusters=8, random_state=0)
    began = time.perf_counter()
    estimator.fit(graph)
    seconds = time.perf_counter() - began
    scores = evaluate(graph.y.numpy(), estimator.labels_)
    steps = estimator.n_iter_ + estimator.pretrain_epochs
    return {"model": model, "start": start, "n_nodes": n_nodes, "acc": scores["acc"],
            "nmi": scores["nmi"], "fit_seconds": seconds,
            "seconds_per_step": seconds / max(steps, 1),
            "epochs": estimator.n_iter_, "batch": estimator.batch_size_,
            "parameters": count_parameters(estimator),
            "peak_rss_gib": peak_rss_gib(), "rss_before_fit_gib": before}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/graph_models/scaling.md",
                           root=False)
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "START", "N"),
                        help="internal: run one model and start at one size, print JSON")
    args = parse(parser, argv, "benchmarks.bench_graph_models_scaling")
    if args.one is not None:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]), args.tiny)))
        return
    rows = []
    for n_nodes in TINY_SIZES if args.tiny else SIZES:
        for model, start in RUNS[:TINY_RUNS] if args.tiny else RUNS:
            rows.append(json.loads(run_module(
                "benchmarks.bench_graph_models_scaling", "--one", model, start, str(n_nodes),
                "--threads", str(args.threads), *(["--tiny"] if args.tiny else []),
                fresh=not args.tiny)))
            print(rows[-1], flush=True)
    lines = [*results_header("MPNN + VN vs graph transformer as the graph grows", args.command),
             f"SBM: 8 clusters, 64 features, average degree 10, homophily 0.6, feature signal "
             f"0.5; defaults except max_epochs={MAX_EPOCHS}, seed 0; batch: what "
             "`batch_size=\"auto\"` chose (full: the whole graph). Start "
             "`linear`: the default (`pretrain=\"linear\"`, 200 steps); `contrastive`: "
             "the encoder's own start (`pretrain=\"contrastive\", pretrain_epochs=50`). "
             "s/step = fit seconds / (start steps + training epochs), so it includes "
             "k-means and the stopping checks; a step of the linear start costs less than "
             "one of the encoder, so compare s/step within a start.", "",
             "| nodes | model | start | batch | ACC | NMI | fit s | s/step | epochs "
             "| parameters | peak RSS GiB |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['n_nodes']} | {r['model']} | {r['start']} | {r['batch'] or 'full'} | "
              f"{r['acc']:.3f} | {r['nmi']:.3f} | "
              f"{r['fit_seconds']:.1f} | {r['seconds_per_step']:.3f} | {r['epochs']} | "
              f"{r['parameters']} | {r['peak_rss_gib']:.2f} |" for r in rows]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
