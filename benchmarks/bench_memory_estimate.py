"""graphclust.memory's peak-memory estimate against the measured peak of real fits.

For each case a subprocess imports torch and graphclust, notes its resident memory, loads
the graph (saved beforehand by this script, so loading makes no temporaries), fits SCGC* (or
a message-passing model: MPNN + VN, the graph transformer) for a few epochs (the peak of an
epoch repeats every epoch) and reports its peak resident
memory (``VmHWM``: its own peak, where ``ru_maxrss`` also holds the peak of this script,
which builds the graphs). *measured* is that peak minus the resident memory after the imports:
what the graph and the fit added, which is what
:func:`graphclust.memory.estimate_peak_memory` estimates (with the positive pairs bounded by
:func:`graphclust.memory.positive_pair_bound`).

    nice -n 5 python -m benchmarks.bench_memory_estimate --root ../shared/data

writes benchmarks/results/memory_estimate.md (``--out`` elsewhere; ``--tiny``: karate, full
batch and mini-batches, and the two message-passing models, in this process, whose numbers
mean nothing).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks._machine import (
    TINY_DATASET,
    parse,
    results_header,
    run_module,
    script_parser,
    write_results,
)

# (data set, batch_size, model); "sbm-<N/1000>k" is make_sbm with the scale benchmarks'
# setting. SCGC*'s SBM rows are in mini-batches only: their full-batch epochs cost minutes
# each on 2 busy cores. The message-passing models keep batch_size="auto" (their default,
# full batch on these graphs), as a default fit of theirs is what the check must hold.
CASES = (("digits", None, "scgc-star"), ("cora", None, "scgc-star"),
         ("dblp", None, "scgc-star"), ("dblp", 1024, "scgc-star"),
         ("sbm-50k", 1024, "scgc-star"), ("sbm-300k", 1024, "scgc-star"),
         ("sbm-1000k", 1024, "scgc-star"),
         ("cora", "auto", "mpnn-vn"), ("cora", "auto", "graph-transformer"),
         # The transformer on sbm-20k (auto -> 1024) took 200 s a row: measured by hand
         # instead (notes at the end of memory_estimate.md).
         ("sbm-20k", "auto", "mpnn-vn"))
TINY_CASES = ((TINY_DATASET, None, "scgc-star"), (TINY_DATASET, 8, "scgc-star"),
              (TINY_DATASET, "auto", "mpnn-vn"), (TINY_DATASET, "auto", "graph-transformer"))
EPOCHS = {"pretrain_epochs": 2, "max_epochs": 2, "tol": 0.0}
SBM = {"n_clusters": 10, "n_features": 64, "avg_degree": 25,
       "homophily": 0.6, "feature_signal": 0.2, "random_state": 0}
MODULE = "benchmarks.bench_memory_estimate"


def _load(name: str, root: str):
    if name.startswith("sbm-"):
        from graphclust.data.synthetic import make_sbm

        return make_sbm(int(name[4:-1]) * 1000, **SBM)
    from graphclust import load_dataset

    return load_dataset(name, root=root)


def measure(path: str, batch_size: int | str | None, model: str = "scgc-star") -> dict:
    """In a fresh process: RSS after imports, then the fit's peak (both in bytes)."""
    import psutil
    import torch

    from graphclust.benchmark.measure import peak_resident_bytes
    from graphclust.memory import estimate_peak_memory, positive_pair_bound
    from graphclust.registry import check_model

    model_class = check_model(model)  # its module imported before the baseline
    baseline = psutil.Process().memory_info().rss
    graph = torch.load(path, weights_only=False)
    n_clusters = int(graph.y.max()) + 1
    estimator = model_class(n_clusters, batch_size=batch_size, device="cpu", random_state=0,
                            **EPOCHS)
    n_nodes, n_features = graph.x.shape
    del graph.y
    estimator.fit(graph)
    peak = peak_resident_bytes()
    # Computed after the fit (it allocates nothing) for "auto"'s choice, batch_size_, with
    # the estimator's own arguments, as its fit's memory check passes them.
    batch = estimator.batch_size_
    pairs = positive_pair_bound(graph.edge_index, n_nodes, estimator.order) \
        if batch is None else None
    estimate = estimate_peak_memory(
        n_nodes, graph.edge_index.shape[1], n_features, batch_size=batch,
        n_positive_pairs=pairs, **estimator._memory_sizes())
    return {"nodes": n_nodes, "edges": int(graph.edge_index.shape[1]), "features": n_features,
            "batch_size": batch or "full", "measured": peak - baseline,
            "estimate": estimate.total, "parts": estimate.parts}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/memory_estimate.md")
    parser.add_argument("--one", nargs=3, metavar=("GRAPH_FILE", "BATCH_SIZE", "MODEL"),
                        help="internal: measure one saved graph, print JSON")
    args = parse(parser, argv, MODULE)
    if args.one is not None:
        word = args.one[1]
        batch = None if word == "full" else word if word == "auto" else int(word)
        print(json.dumps(measure(args.one[0], batch, args.one[2])))
        return
    import torch

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, batch_size, model in TINY_CASES if args.tiny else CASES:
            path = Path(folder) / f"{name}.pt"
            if not path.exists():
                torch.save(_load(name, args.root), path)
            row = json.loads(run_module(MODULE, "--one", str(path), str(batch_size or "full"),
                                        model, "--threads", str(args.threads),
                                        fresh=not args.tiny))
            # "auto" is reported with what it chose.
            row.update(name=name, model=model, asked=batch_size or "full")
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_results(args.out, report(rows, args.command))


def report(rows: list[dict], command: str) -> list[str]:
    gib = 2**30
    lines = [
        *results_header("Peak-memory estimate against measured peaks", command),
        "One subprocess per row, with the torch threads of the machine table.",
        "",
        "Fits: the model's estimator `(k, batch_size=..., random_state=0, "
        + ", ".join(f"{key}={value}" for key, value in EPOCHS.items()) + ")`, "
        "otherwise defaults (`auto -> full`: `batch_size=\"auto\"` and what it chose). "
        "*measured*: the subprocess's peak resident memory minus its "
        "resident memory after importing torch and graphclust. *estimate*: "
        "`graphclust.memory.estimate_peak_memory` with `positive_pair_bound`.",
        "",
        "| model | data | nodes | edge entries | features | batch_size | estimate (GiB) "
        "| measured (GiB) | estimate / measured | largest parts of the estimate |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        parts = sorted(row["parts"].items(), key=lambda item: -item[1])[:3]
        described = ", ".join(f"{name} {size / gib:.2f}" for name, size in parts)
        batch = row["batch_size"] if row["asked"] != "auto" else f"auto -> {row['batch_size']}"
        lines.append(
            f"| {row['model']} | {row['name']} | {row['nodes']:,} | {row['edges']:,} "
            f"| {row['features']:,} "
            f"| {batch} | {row['estimate'] / gib:.3f} | {row['measured'] / gib:.3f} "
            f"| {row['estimate'] / max(row['measured'], 1):.2f} | {described} |")
    return lines + [""]


if __name__ == "__main__":
    main()
