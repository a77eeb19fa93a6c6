"""How good are the clusters of the contrastive start, as a function of its length?

For each start (``pretrain="linear"``: a linear map, grown into the MLP afterwards;
``pretrain="contrastive"``: the 256-32 MLP itself) and each number of Adam steps, SCGC* is
fitted with ``max_epochs=0``: its labels are then the k-means start of the joint stage
(20 restarts on the normalised embeddings). Scores use the labels, which training never sees.

    OMP_NUM_THREADS=1 python benchmarks/probe_start.py [--root ../shared/data] [--seeds 3]

writes ``benchmarks/results/start_probe.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from _machine import LOAD_NOTE, load_average, machine_info, write_results

from graphclust import SCGCStar, evaluate, load_dataset

STARTS = ("linear", "contrastive")
STEPS = (25, 50, 100, 200, 400, 800)
# Both starts at the same Adam rate, the MLP start's, so that only the encoder differs. The
# default linear start runs 200 steps at 1e-2 (pretrain_lr="auto"), which reaches the
# plateau of 400 steps at 1e-3 (benchmarks/results/notes.md). No L2 penalty and no whitening
# of the start (the linear start's default ridge and whitening came later; their effect is
# in ablations.md), so the curves show the encoders alone.
PRETRAIN_LR = 1e-3
RESULTS = Path(__file__).resolve().parent / "results" / "start_probe.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data")
    parser.add_argument("--datasets", default="dblp,cora")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    command = "python benchmarks/probe_start.py " + shlex.join(sys.argv[1:])
    header = "| data set | start | metric | " + " | ".join(f"{s} steps" for s in STEPS) + " |"
    lines = ["# Clusters of the contrastive start against its length", "",
             f"Command: `{command}`. SCGC* with `max_epochs=0` (labels = the k-means start of "
             f"the joint stage), `pretrain_lr=1e-3`, `pretrain_weight_decay=0` and "
             f"`start_whitening=None` for both starts, defaults otherwise; "
             f"mean ± std over seeds 0-{args.seeds - 1}.",
             "`linear`: `pretrain=\"linear\"` (a linear map features -> 32, the default start, "
             "which runs 200 steps at 1e-2); "
             "`contrastive`: `pretrain=\"contrastive\"` (the 256-32 MLP itself).", "",
             header, "|---|---|---|" + "---:|" * len(STEPS)]
    started = time.perf_counter()
    for dataset in args.datasets.split(","):
        graph = load_dataset(dataset, root=args.root)
        labels = graph.y.numpy()
        n_clusters = int(labels.max()) + 1
        for start in STARTS:
            scores = {step: [] for step in STEPS}
            for step in STEPS:
                for seed in range(args.seeds):
                    model = SCGCStar(n_clusters, pretrain=start, pretrain_epochs=step,
                                     pretrain_lr=PRETRAIN_LR, pretrain_weight_decay=0.0,
                                     start_whitening=None, max_epochs=0,
                                     random_state=seed).fit(graph)
                    scores[step].append(evaluate(labels, model.labels_))
            for metric in ("acc", "nmi"):
                cells = [f"{np.mean([s[metric] for s in scores[step]]):.3f} ± "
                         f"{np.std([s[metric] for s in scores[step]]):.3f}" for step in STEPS]
                lines.append(f"| {dataset} | {start} | {metric.upper()} | " + " | ".join(cells)
                             + " |")
            print(lines[-2], lines[-1], sep="\n", flush=True)
    machine = ", ".join(f"{key} {value}" for key, value in machine_info().items())
    lines += ["", f"Machine: {machine}; {time.perf_counter() - started:.0f} s in all; load "
              f"average at the end {load_average()}. {LOAD_NOTE}", ""]
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
