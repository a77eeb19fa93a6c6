"""graphclust.memory's peak-memory estimate against the measured peak of real fits.

For each case a subprocess imports torch and graphclust, notes its resident memory, loads
the graph (saved beforehand by this script, so loading makes no temporaries), fits SCGC* for
a few epochs (the peak of an epoch repeats every epoch) and reports its peak resident
memory (``ru_maxrss``). *measured* is that peak minus the resident memory after the imports:
what the graph and the fit added, which is what
:func:`graphclust.memory.estimate_peak_memory` estimates (with the positive pairs bounded by
:func:`graphclust.memory.positive_pair_bound`).

    nice -n 5 python benchmarks/bench_memory_estimate.py --root ../shared/data

writes benchmarks/results/memory_estimate.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import LOAD_NOTE, load_average, machine_info, write_results  # noqa: E402

# (data set, batch_size); "sbm-50k" is make_sbm with the scale benchmarks' setting, in
# mini-batches only: its full-batch epochs cost minutes each on 2 busy cores.
CASES = (("digits", None), ("cora", None), ("dblp", None), ("dblp", 1024), ("sbm-50k", 1024))
EPOCHS = {"pretrain_epochs": 2, "max_epochs": 2, "tol": 0.0}
SBM = {"n_nodes": 50_000, "n_clusters": 10, "n_features": 64, "avg_degree": 25,
       "homophily": 0.6, "feature_signal": 0.2, "random_state": 0}
RESULTS = Path(__file__).resolve().parent / "results" / "memory_estimate.md"


def _load(name: str, root: str | None):
    if name == "sbm-50k":
        from graphclust.data.synthetic import make_sbm

        return make_sbm(**SBM)
    from graphclust import load_dataset

    return load_dataset(name, root=root)


def measure(path: str, batch_size: int | None) -> dict:
    """In a fresh process: RSS after imports, then the fit's peak (both in bytes)."""
    import psutil
    import torch

    torch.set_num_threads(1)
    from graphclust import SCGCStar
    from graphclust.memory import estimate_peak_memory, positive_pair_bound

    baseline = psutil.Process().memory_info().rss
    graph = torch.load(path, weights_only=False)
    n_clusters = int(graph.y.max()) + 1
    estimator = SCGCStar(n_clusters, batch_size=batch_size, device="cpu", random_state=0,
                         **EPOCHS)
    n_nodes, n_features = graph.x.shape
    estimate = estimate_peak_memory(
        n_nodes, graph.edge_index.shape[1], n_features, estimator.hidden_dims,
        estimator.embedding_dim, n_clusters, batch_size=batch_size,
        n_positive_pairs=positive_pair_bound(graph.edge_index, n_nodes, estimator.order),
        order=estimator.order, num_walks=estimator.num_walks)
    del graph.y
    estimator.fit(graph)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"nodes": n_nodes, "edges": int(graph.edge_index.shape[1]), "features": n_features,
            "measured": peak - baseline, "estimate": estimate.total, "parts": estimate.parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="data root (default $GRAPHCLUST_DATA)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        batch = None if args.one[1] == "full" else int(args.one[1])
        print(json.dumps(measure(args.one[0], batch)))
        return
    import torch

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, batch_size in CASES:
            path = Path(folder) / f"{name}.pt"
            if not path.exists():
                torch.save(_load(name, args.root), path)
            completed = subprocess.run(
                [sys.executable, __file__, "--one", str(path), str(batch_size or "full")],
                check=True, stdout=subprocess.PIPE, text=True)
            row = json.loads(completed.stdout.strip().splitlines()[-1])
            row.update(name=name, batch_size=batch_size or "full")
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_results(RESULTS, report(rows))


def report(rows: list[dict]) -> list[str]:
    gib = 2**30
    lines = [
        "# Peak-memory estimate against measured peaks",
        "",
        "Command: `python benchmarks/bench_memory_estimate.py "
        + " ".join(sys.argv[1:]) + "` (one subprocess per row, one torch thread).",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info().items()),
        f"| load average after the run (1/5/15 min) | {load_average()} |",
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
    return lines + ["", LOAD_NOTE, ""]


if __name__ == "__main__":
    main()
