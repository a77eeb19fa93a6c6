"""SCGC* in full batch against its default ``batch_size="auto"``: quality and time.

For each data set and seed, ``SCGCStar`` with its defaults is fitted twice in fresh
processes, once with ``batch_size=None`` (full batch) and once with the default (which
resolves to seed batches of 1,024 on graphs of 2,048 nodes and more), the two in turn so
that a change in the machine's load hits both alike. Each process times its ``fit`` only.
The table gives both runs' ACC / NMI, their seconds and the ratio, and per data set the
mean ACC difference (issue 18's bound: within 0.01) and the median time ratio.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_batch_modes --datasets dblp,cora,photo \\
        --seeds 3

writes benchmarks/results/batch_modes.md (``--out`` elsewhere).
"""

from __future__ import annotations

import statistics
import tempfile

from benchmarks._machine import (
    fit_params,
    load_average,
    parse,
    results_header,
    script_parser,
    write_results,
)
from benchmarks.bench_start import REPO, fit_in_fresh_process

MODULE = "benchmarks.bench_batch_modes"
MODES = {"full batch": {"batch_size": None}, "auto": {}}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/batch_modes.md",
                           datasets="dblp,cora,photo", seeds=3)
    args = parse(parser, argv, MODULE)
    load_start = load_average()
    runs: dict[tuple[str, int, str], dict] = {}
    with tempfile.TemporaryDirectory() as empty:
        for dataset in args.datasets:
            for seed in range(args.seeds):
                for mode, params in MODES.items():
                    runs[dataset, seed, mode] = fit_in_fresh_process(
                        REPO, empty, args.root, dataset, seed, args.threads,
                        {**fit_params(args), **params})
    lines = [
        *results_header("SCGC*: full batch against batch_size=\"auto\"", args.command),
        f"Load average (1 / 5 / 15 min) at the start: {load_start}.",
        "",
        "`fit` seconds of `SCGCStar(n_clusters=K, random_state=seed)` in a fresh process, "
        "once with `batch_size=None` and once with the default `batch_size=\"auto\"` "
        "(its resolved `batch_size_` in the table), in turn; every other parameter at "
        "its default" + (f", except {fit_params(args)} (--tiny)" if args.tiny else "") + ".",
        "",
        "| data set | seed | auto resolved to | full batch ACC / NMI | auto ACC / NMI "
        "| full batch s | auto s | auto / full | epochs full / auto |",
        "|---|---:|---|---|---|---:|---:|---:|---|",
    ]
    summary = []
    for dataset in args.datasets:
        differences, ratios = [], []
        for seed in range(args.seeds):
            full, auto = runs[dataset, seed, "full batch"], runs[dataset, seed, "auto"]
            differences.append(auto["acc"] - full["acc"])
            ratios.append(auto["seconds"] / full["seconds"])
            resolved = "full batch" if auto["batch_size"] is None else auto["batch_size"]
            lines.append(
                f"| {dataset} | {seed} | {resolved} | {full['acc']:.3f} / {full['nmi']:.3f} "
                f"| {auto['acc']:.3f} / {auto['nmi']:.3f} | {full['seconds']:.1f} "
                f"| {auto['seconds']:.1f} | {ratios[-1]:.2f} "
                f"| {full['epochs']} / {auto['epochs']} |")
        summary.append(f"| {dataset} | {statistics.mean(differences):+.3f} "
                       f"| {statistics.median(ratios):.2f} |")
    lines += ["", "| data set | mean ACC auto - full | median time auto / full |",
              "|---|---:|---:|", *summary]
    write_results(args.out, lines)
    print("\n".join(summary))


if __name__ == "__main__":
    main()
