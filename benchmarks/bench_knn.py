"""Time, memory and recall of the kNN graph builders (graphclust.data.knn_graph) on the CPU.

Exact (default mode): for every size the cost is first estimated from a few query blocks
(all candidates, a fixed set of query rows), then the full graph is built only if the
estimate fits the time limit. Writes benchmarks/results/knn.md.

Approximate (``--approximate``): ``knn_graph(..., method="approximate")`` (faiss HNSW, the
``[ann]`` extra) on 1M points by default, and its recall@k against the exact neighbours of
``RECALL_QUERIES`` random query points. ``--compare-libraries`` adds, at ``--sizes``, the
other candidate libraries with the same recall harness (those installed: hnswlib,
pynndescent). Writes benchmarks/results/knn_approximate.md.

Each measurement runs in a fresh subprocess so that its peak resident memory is its own.

    .venv/bin/python benchmarks/bench_knn.py
    nice -n 5 .venv/bin/python benchmarks/bench_knn.py --approximate
    nice -n 5 .venv/bin/python benchmarks/bench_knn.py --approximate --compare-libraries \\
        --sizes 100000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch
from _machine import LOAD_NOTE, load_average, machine_info, peak_rss_gib, write_results
from bench_knn_approximate import approximate_section, run_approximate

SIZES = (100_000, 300_000, 1_000_000)
N_FEATURES = 64
K = 10
METRIC = "cosine"
ESTIMATE_BLOCKS = 2
FULL_RUN_LIMIT_S = 15 * 60
RESULTS = Path(__file__).resolve().parent / "results" / "knn.md"
APPROXIMATE_RESULTS = RESULTS.with_name("knn_approximate.md")
OTHER_LIBRARIES = ("hnswlib", "pynndescent")


def _features(n_samples: int) -> torch.Tensor:
    return torch.randn(n_samples, N_FEATURES, generator=torch.Generator().manual_seed(0))


def run_full(n_samples: int) -> dict[str, float]:
    """Build the whole symmetric kNN graph."""
    from graphclust.data.knn import knn_graph

    features = _features(n_samples)
    start = time.perf_counter()
    edge_index = knn_graph(features, K, METRIC)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "edge_entries": edge_index.shape[1], "rss": peak_rss_gib()}


def run_estimate(n_samples: int) -> dict[str, float]:
    """Neighbours of the first ESTIMATE_BLOCKS query blocks against all points, extrapolated.

    Uses the module's internal per-block routine, which is exactly what knn_indices runs for
    each block of query rows; every block costs the same on this data (Gaussian rows).
    """
    from graphclust.data import knn

    features = _features(n_samples)
    start = time.perf_counter()
    features = knn._as_feature_tensor(features, None)
    block_size = knn._resolve_block_size(None, n_samples, N_FEATURES, features.element_size())
    operands = knn._prepare_operands(features, METRIC)
    setup_seconds = time.perf_counter() - start
    query_rows = min(n_samples, ESTIMATE_BLOCKS * block_size)
    start = time.perf_counter()
    with torch.no_grad():
        for row in range(0, query_rows, block_size):
            knn._query_block_neighbours(
                operands, row, min(row + block_size, query_rows), K, block_size
            )
    block_seconds = time.perf_counter() - start
    return {
        "block_size": block_size,
        "query_rows": query_rows,
        "measured_seconds": setup_seconds + block_seconds,
        "seconds": setup_seconds + block_seconds * n_samples / query_rows,
        "rss": peak_rss_gib(),
    }


def _in_subprocess(mode: str, n_samples: int) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--n", str(n_samples), "--threads",
         str(torch.get_num_threads())],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout)


def _libraries(compare: bool) -> list[str]:
    """graphclust's approximate path, then the other candidates that are installed."""
    others = [name for name in OTHER_LIBRARIES if compare and importlib.util.find_spec(name)]
    return ["graphclust", *others]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approximate", action="store_true", help="the approximate path")
    parser.add_argument("--compare-libraries", action="store_true",
                        help="with --approximate: also hnswlib and pynndescent, if installed")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of points")
    parser.add_argument("--threads", type=int, default=2, help="torch (and faiss) threads")
    parser.add_argument("--mode", help="internal: one run (full, estimate or a library)")
    parser.add_argument("--n", type=int, help="internal: number of points")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.mode is not None:
        runs = {"full": run_full, "estimate": run_estimate}
        row = runs[args.mode](args.n) if args.mode in runs else run_approximate(
            args.mode, _features(args.n), K, METRIC)
        print(json.dumps(row))
        return
    if args.approximate:
        command = "python benchmarks/bench_knn.py " + " ".join(sys.argv[1:])
        rows = []
        for n_samples in args.sizes or (1_000_000,):
            for library in _libraries(args.compare_libraries):
                rows.append((library, n_samples, _in_subprocess(library, n_samples)))
                # Rewritten after every run, so that a long sweep keeps what it measured.
                write_results(APPROXIMATE_RESULTS, approximate_section(
                    rows, command, N_FEATURES, K, METRIC, machine_info(), load_average()) + [
                    LOAD_NOTE, ""])
        return

    rows = []
    for n_samples in args.sizes or SIZES:
        estimate = _in_subprocess("estimate", n_samples)
        print(n_samples, "estimate", estimate, flush=True)
        full = None
        if estimate["seconds"] <= FULL_RUN_LIMIT_S:
            full = _in_subprocess("full", n_samples)
            print(n_samples, "full", full, flush=True)
        rows.append((n_samples, estimate, full))

    lines = [
        "# knn_graph benchmark",
        "",
        "Command: `.venv/bin/python benchmarks/bench_knn.py` (one subprocess per run, "
        f"`torch.set_num_threads({args.threads})`).",
        "",
        f"Input: float32 `torch.randn(n, {N_FEATURES})` (seed 0); `knn_graph(X, k={K}, "
        f'metric="{METRIC}")`, exact, symmetric output, automatic block size.',
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info().items()),
        f"| load average after the run (1/5/15 min) | {load_average()} |",
        "",
        "Method: for each size the search is first run for the first "
        f"{ESTIMATE_BLOCKS} blocks of query rows against all n points and the time is scaled by "
        "n / rows (the *estimate*). The full graph is built when the estimate is at most "
        f"{FULL_RUN_LIMIT_S // 60} minutes; otherwise only the estimate is reported, "
        "**extrapolated, not measured**.",
        "",
        "| n | pairs scored | block size | estimate rows | estimated time (s) "
        "| full time (s) | edge entries | peak RSS (GiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n_samples, estimate, full in rows:
        if full is None:
            full_cell, edges_cell = "not run (extrapolated only)", "-"
            rss_cell = f"{estimate['rss']:.2f} (estimate run)"
        else:
            full_cell, edges_cell = f"{full['seconds']:.1f}", f"{full['edge_entries']:,}"
            rss_cell = f"{full['rss']:.2f}"
        lines.append(
            f"| {n_samples:,} | {n_samples**2:.1e} | {estimate['block_size']:,} "
            f"| {estimate['query_rows']:,} | {estimate['seconds']:.1f} | {full_cell} "
            f"| {edges_cell} | {rss_cell} |"
        )
    largest, estimate, _ = rows[-1]
    lines += [
        "",
        f"At n = {largest:,} the estimate measured {estimate['query_rows']:,} query rows in "
        f"{estimate['measured_seconds']:.1f} s and extrapolates to {estimate['seconds']:.0f} s "
        f"(about {math.ceil(estimate['seconds'] / 60)} minutes) for all rows. Memory of a full "
        f"run is the estimate run's plus the (n, k) int64 neighbour table and the temporaries of "
        f"the symmetric edge list, about 5 x n x k x 8 bytes "
        f"({largest * K * 8 * 5 / 2**30:.1f} GiB at this size).",
        "Peak RSS includes the interpreter with torch imported and the input matrix "
        f"({N_FEATURES * 4} bytes per point).",
        LOAD_NOTE,
        "",
    ]
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
