"""The cost of SCGC*'s default start, the package at a git revision against this checkout.

The start alone (``max_epochs=0``: the held-out length run, the start, k-means on its
embeddings; ``--max-epochs`` adds training) is fitted in fresh processes that alternate
between the two packages, seed by seed, round by round, so that a change in the machine's
load hits both alike. Each process times its ``fit`` only (no import, no loading) and
reports the chosen length (the ``"kept"`` check of ``history_``) and the labels, so the
table says whether the two made the same decisions. The "before" package is exported
from ``--before`` into a temporary folder and put first on ``PYTHONPATH``, with this
environment's torch and dependencies.

Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.bench_start --dataset dblp --seeds 3 \\
        --rounds 2 --before fb9afed --out benchmarks/results/start_speed.md
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._machine import (
    TINY_DATASET,
    export_package,
    load_average,
    parse,
    results_header,
    script_parser,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
# One fit in a fresh interpreter: argv = root, dataset, seed, threads, parameters (JSON).
FIT = """
import hashlib, json, sys, time
import torch
import graphclust
from graphclust import SCGCStar, evaluate, load_dataset
root, name, seed, threads, params = sys.argv[1:]
torch.set_num_threads(int(threads))
graph = load_dataset(name, root=root)
model = SCGCStar(n_clusters=int(graph.y.max()) + 1, random_state=int(seed), **json.loads(params))
start = time.perf_counter()
model.fit(graph)
seconds = time.perf_counter() - start
print(json.dumps({"package": graphclust.__file__, "seconds": seconds,
                  "kept": [e["epoch"] for e in model.history_ if e.get("kept")],
                  "steps": max([e["epoch"] for e in model.history_
                                if e["phase"] == "start-length"], default=0)
                           + sum(e["phase"] == "pretrain" for e in model.history_),
                  "labels": hashlib.sha1(model.labels_.tobytes()).hexdigest(),
                  "batch_size": getattr(model, "batch_size_", None), "epochs": model.n_iter_,
                  **evaluate(graph.y.numpy(), model.labels_)}))
"""


def fit_in_fresh_process(package: Path, cwd: str, root: str, dataset: str, seed: int,
                         threads: int, params: dict) -> dict:
    """One timed SCGC* ``fit`` of ``package`` in a new interpreter started in ``cwd``
    (an empty folder: ``python -c`` puts the working directory first on ``sys.path``)."""
    env = {**os.environ, "PYTHONPATH": str(package)}
    completed = subprocess.run(
        [sys.executable, "-c", FIT, str(Path(root).resolve()), dataset, str(seed),
         str(threads), json.dumps(params)],
        env=env, cwd=cwd, capture_output=True, text=True, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if not result["package"].startswith(str(package)):
        raise RuntimeError(f"imported {result['package']}, not the package in {package}")
    return result


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/start_speed.md", seeds=3)
    parser.add_argument("--dataset", default="dblp")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default="fb9afed", help="git revision before the change")
    parser.add_argument("--max-epochs", type=int, default=0,
                        help="training epochs after the start (default: 0, the start alone)")
    parser.add_argument("--params", type=json.loads, default={},
                        help="more estimator parameters, a JSON object, for both packages "
                             "(e.g. '{\"start_holdout\": null, \"tol\": 0}' to time the same "
                             "fixed-length fit before and after a refactoring)")
    args = parse(parser, argv, "benchmarks.bench_start")
    params = {"max_epochs": args.max_epochs, **args.params}
    if args.tiny:
        args.dataset, args.rounds, args.before = TINY_DATASET, 1, "HEAD"
        params["pretrain_epochs"] = 20

    load_start = load_average()
    runs: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory() as old, tempfile.TemporaryDirectory() as empty:
        export_package(args.before, Path(old))
        packages = {f"before ({args.before})": Path(old), "this checkout": REPO}
        for _ in range(args.rounds):
            for seed in range(args.seeds):
                for name, package in packages.items():
                    runs.setdefault((name, seed), []).append(fit_in_fresh_process(
                        package, empty, args.root, args.dataset, seed, args.threads, params))

    before, after = packages
    lines = [
        *results_header(f"SCGC*'s start on {args.dataset}: before and after",
                        args.command),
        f"Load average (1 / 5 / 15 min) at the start: {load_start}.",
        "",
        "`fit` seconds of `SCGCStar(n_clusters=K, random_state=seed, "
        + ", ".join(f"{key}={value!r}" for key, value in params.items())
        + f")` in a fresh process, median of {args.rounds} rounds (the two "
        "packages in turn for each seed); steps: the Adam steps of the start, its held-out "
        "length run included; kept: the chosen length (`history_`).",
        "",
        "| seed | before s | after s | after / before | before steps | after steps "
        "| kept before / after | same labels | ACC before / after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for seed in range(args.seeds):
        old_runs, new_runs = runs[(before, seed)], runs[(after, seed)]
        old_s = statistics.median(run["seconds"] for run in old_runs)
        new_s = statistics.median(run["seconds"] for run in new_runs)
        ratios.append(new_s / old_s)
        old_run, new_run = old_runs[0], new_runs[0]
        lines.append(
            f"| {seed} | {old_s:.1f} | {new_s:.1f} | {new_s / old_s:.2f} | {old_run['steps']} "
            f"| {new_run['steps']} | {old_run['kept']} / {new_run['kept']} | "
            f"{'yes' if old_run['labels'] == new_run['labels'] else 'no'} | "
            f"{old_run['acc']:.4f} / {new_run['acc']:.4f} |")
    lines += ["", f"Median ratio after / before: {statistics.median(ratios):.2f}."]
    write_results(args.out, lines)
    for line in lines[-args.seeds - 3:]:
        print(line)


if __name__ == "__main__":
    main()
