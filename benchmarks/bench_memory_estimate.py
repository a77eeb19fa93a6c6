"""graphclust.memory's peak-memory estimate against the measured peak of real fits.

For each case a subprocess imports torch and graphclust, notes its resident memory, loads
the graph (saved beforehand by this script, so loading makes no temporaries), fits SCGC* for
a few epochs (the peak of an epoch repeats every epoch) and reports its peak resident
memory (``ru_maxrss``). *measured* is that peak minus the resident memory after the imports:
what the graph and the fit added, which is what
:func:`graphclust.memory.estimate_peak_memory` estimates (with the positive pairs bounded by
:func:`graphclust.memory.positive_pair_bound`).

    nice -n 5 python -m benchmarks.bench_memory_estimate --root ../shared/data

writes benchmarks/results/memory_estimate.md (``--out`` elsewhere; ``--tiny``: karate, full
batch and mini-batches, in this process, whose numbers mean nothing).
"""

from __future__ import annotations

import json
import resource
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

# (data set, batch_size); "sbm-<N/1000>k" is make_sbm with the scale benchmarks' setting,
# in mini-batches only: their full-batch epochs cost minutes each on 2 busy cores.
CASES = (("digits", None), ("cora", None), ("dblp", None), ("dblp", 1024), ("sbm-50k", 1024),
         ("sbm-300k", 1024), ("sbm-1000k", 1024))
TINY_CASES = ((TINY_DATASET, None), (TINY_DATASET, 8))
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


def measure(path: str, batch_size: int | None) -> dict:
    """In a fresh process: RSS after imports, then the fit's peak (both in bytes)."""
    import psutil
    import torch

    from graphclust import SCGCStar
    from graphclust.memory import estimate_peak_memory, positive_pair_bound

    baseline = psutil.Process().memory_info().rss
    graph = torch.load(path, weights_only=False)
    n_clusters = int(graph.y.max()) + 1
    estimator = SCGCStar(n_clusters, batch_size=batch_size, device="cpu", random_state=0,
                         **EPOCHS)
    n_nodes, n_features = graph.x.shape
    # The estimator's own arguments, as its fit's memory check passes them.
    estimate = estimate_peak_memory(
        n_nodes, graph.edge_index.shape[1], n_features, batch_size=batch_size,
        n_positive_pairs=positive_pair_bound(graph.edge_index, n_nodes, estimator.order),
        **estimator._memory_sizes())
    del graph.y
    estimator.fit(graph)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"nodes": n_nodes, "edges": int(graph.edge_index.shape[1]), "features": n_features,
            "measured": peak - baseline, "estimate": estimate.total, "parts": estimate.parts}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/memory_estimate.md")
    parser.add_argument("--one", nargs=2, metavar=("GRAPH_FILE", "BATCH_SIZE"),
                        help="internal: measure one saved graph, print JSON")
    args = parse(parser, argv, MODULE)
    if args.one is not None:
        batch = None if args.one[1] == "full" else int(args.one[1])
        print(json.dumps(measure(args.one[0], batch)))
        return
    import torch

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, batch_size in TINY_CASES if args.tiny else CASES:
            path = Path(folder) / f"{name}.pt"
            if not path.exists():
                torch.save(_load(name, args.root), path)
            row = json.loads(run_module(MODULE, "--one", str(path), str(batch_size or "full"),
                                        "--threads", str(args.threads), fresh=not args.tiny))
            row.update(name=name, batch_size=batch_size or "full")
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_results(args.out, report(rows, args.command))


def report(rows: list[dict], command: str) -> list[str]:
    gib = 2**30
    lines = [
        *results_header("Peak-memory estimate against measured peaks", command),
        "One subprocess per row, with the torch threads of the machine table.",
        "",
        "Fits: `SCGCStar(k, batch_size=..., random_state=0, "
        + ", ".join(f"{key}={value}" for key, value in EPOCHS.items()) + ")`, "
        "otherwise defaults. *measured*: the subprocess's peak resident memory minus its "
        "resident memory after importing torch and graphclust. *estimate*: "
        "`graphclust.memory.estimate_peak_memory` with `positive_pair_bound`.",
        "",
        "| data | nodes | edge entries | features | batch_size | estimate (GiB) "
        "| measured (GiB) | estimate / measured | largest parts of the estimate |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        parts = sorted(row["parts"].items(), key=lambda item: -item[1])[:3]
        described = ", ".join(f"{name} {size / gib:.2f}" for name, size in parts)
        lines.append(
            f"| {row['name']} | {row['nodes']:,} | {row['edges']:,} | {row['features']:,} "
            f"| {row['batch_size']} | {row['estimate'] / gib:.3f} | {row['measured'] / gib:.3f} "
            f"| {row['estimate'] / max(row['measured'], 1):.2f} | {described} |")
    return lines + [""]


if __name__ == "__main__":
    main()
