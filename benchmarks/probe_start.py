"""How good are the clusters of the contrastive start, as a function of its length?

For each start (``pretrain="linear"``: a linear map, grown into the MLP afterwards;
``pretrain="contrastive"``: the 256-32 MLP itself) and each number of Adam steps, SCGC* is
fitted with ``max_epochs=0``: its labels are then the k-means start of the joint stage
(20 restarts on the normalised embeddings). Scores use the labels, which training never sees.

    python -m benchmarks.probe_start [--root ../shared/data] [--seeds 3]

writes ``benchmarks/results/start_probe.md``.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._machine import parse, results_header, script_parser, write_results
from graphclust import SCGCStar, evaluate, load_dataset

STARTS = ("linear", "contrastive")
STEPS = (25, 50, 100, 200, 400, 800)
# Both starts at the same Adam rate, the MLP start's, so that only the encoder differs. The
# default linear start runs 200 steps at 1e-2 (pretrain_lr="auto"), which reaches the
# plateau of 400 steps at 1e-3 (benchmarks/results/notes.md). No L2 penalty and no whitening
# of the start (the linear start's default ridge and whitening came later; their effect is
# in ablations.md), so the curves show the encoders alone.
PRETRAIN_LR = 1e-3


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/start_probe.md",
                           datasets="dblp,cora", seeds=3)
    args = parse(parser, argv, "benchmarks.probe_start")
    steps = STEPS[:1] if args.tiny else STEPS
    header = "| data set | start | metric | " + " | ".join(f"{s} steps" for s in steps) + " |"
    lines = [f"SCGC* with `max_epochs=0` (labels = the k-means start of "
             f"the joint stage), `pretrain_lr=1e-3`, `pretrain_weight_decay=0` and "
             f"`start_whitening=None` for both starts, defaults otherwise; "
             f"mean ± std over seeds 0-{args.seeds - 1}.",
             "`linear`: `pretrain=\"linear\"` (a linear map features -> 32, the default start, "
             "which runs 200 steps at 1e-2); "
             "`contrastive`: `pretrain=\"contrastive\"` (the 256-32 MLP itself).", "",
             header, "|---|---|---|" + "---:|" * len(steps)]
    started = time.perf_counter()
    for dataset in args.datasets:
        graph = load_dataset(dataset, root=args.root)
        labels = graph.y.numpy()
        n_clusters = int(labels.max()) + 1
        for start in STARTS:
            scores = {step: [] for step in steps}
            for step in steps:
                for seed in range(args.seeds):
                    model = SCGCStar(n_clusters, pretrain=start, pretrain_epochs=step,
                                     pretrain_lr=PRETRAIN_LR, pretrain_weight_decay=0.0,
                                     start_whitening=None, max_epochs=0,
                                     random_state=seed).fit(graph)
                    scores[step].append(evaluate(labels, model.labels_))
            for metric in ("acc", "nmi"):
                cells = [f"{np.mean([s[metric] for s in scores[step]]):.3f} ± "
                         f"{np.std([s[metric] for s in scores[step]]):.3f}" for step in steps]
                lines.append(f"| {dataset} | {start} | {metric.upper()} | " + " | ".join(cells)
                             + " |")
            print(lines[-2], lines[-1], sep="\n", flush=True)
    lines += ["", f"{time.perf_counter() - started:.0f} s in all.", ""]
    write_results(args.out, [*results_header("Clusters of the contrastive start against its "
                                             "length", args.command), *lines])


if __name__ == "__main__":
    main()
