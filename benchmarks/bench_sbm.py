"""Time and memory of graphclust.data.make_sbm from 10k to 2.4M nodes.

Each size runs in a fresh subprocess so that its peak resident memory is its own.

    .venv/bin/python benchmarks/bench_sbm.py

writes benchmarks/results/sbm.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch
from _machine import LOAD_NOTE, load_average, machine_info, peak_rss_gib, write_results

SIZES = (10_000, 100_000, 1_000_000, 2_400_000)
N_CLUSTERS = 10
N_FEATURES = 64
AVG_DEGREE = 25
RESULTS = Path(__file__).resolve().parent / "results" / "sbm.md"


def run_one(n_nodes: int) -> dict[str, float]:
    """Generate one graph in this process and report its cost."""
    from graphclust.data.synthetic import make_sbm

    torch.set_num_threads(2)
    baseline_gib = peak_rss_gib()
    start = time.perf_counter()
    data = make_sbm(n_nodes, N_CLUSTERS, N_FEATURES, AVG_DEGREE, random_state=0)
    seconds = time.perf_counter() - start
    source, target = data.edge_index
    return {
        "n_nodes": n_nodes,
        "seconds": seconds,
        "edge_entries": data.edge_index.shape[1],
        "intra_fraction": float((data.y[source] == data.y[target]).float().mean()),
        "peak_rss_gib": peak_rss_gib(),
        "import_rss_gib": baseline_gib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=int, help="internal: run a single size, print JSON")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one)))
        return

    torch.set_num_threads(2)
    rows = []
    for n_nodes in SIZES:
        completed = subprocess.run(
            [sys.executable, __file__, "--one", str(n_nodes)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(completed.stdout)
        print(result, flush=True)
        rows.append(result)

    lines = [
        "# make_sbm benchmark",
        "",
        "Command: `.venv/bin/python benchmarks/bench_sbm.py` (one subprocess per size, "
        "`torch.set_num_threads(2)`).",
        "",
        f"Graph: `make_sbm(n_nodes, n_clusters={N_CLUSTERS}, n_features={N_FEATURES}, "
        f"avg_degree={AVG_DEGREE}, homophily=0.8, random_state=0)`.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info().items()),
        f"| load average after the run (1/5/15 min) | {load_average()} |",
        "",
        "| nodes | edge entries (both directions) | avg degree | intra-cluster fraction "
        "| time (s) | peak RSS (GiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['n_nodes']:,} | {row['edge_entries']:,} "
            f"| {row['edge_entries'] / row['n_nodes']:.2f} | {row['intra_fraction']:.3f} "
            f"| {row['seconds']:.2f} | {row['peak_rss_gib']:.2f} |"
        )
    lines += [
        "",
        f"Peak RSS includes the interpreter with torch and torch_geometric imported "
        f"(about {rows[0]['import_rss_gib']:.2f} GiB before generating). Time covers "
        "labels, edges (sampling, symmetrising, sorting, de-duplicating) and features.",
        LOAD_NOTE,
        "",
    ]
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
