"""Time and memory of the exact blocked kNN graph (graphclust.data.knn_graph) on the CPU.

For every size the cost is first estimated from the neighbours of the first
``ESTIMATE_ROWS`` points among themselves (``knn_indices``: the same tiles, fewer of them),
scaled by the number of pairs; the full graph is built only if the estimate fits the time
limit. Each measurement runs in a fresh subprocess so that its peak resident memory is its
own.

    python -m benchmarks.bench_knn

writes benchmarks/results/knn.md.
"""

from __future__ import annotations

import json
import math
import time

import torch

from benchmarks._machine import (
    parse,
    peak_rss_gib,
    results_header,
    run_module,
    script_parser,
    write_results,
)

SIZES = (100_000, 300_000, 1_000_000)
TINY_SIZES = (2_000,)
N_FEATURES = 64
K = 10
METRIC = "cosine"
ESTIMATE_ROWS = 20_000
FULL_RUN_LIMIT_S = 15 * 60


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
    """The kNN of the first ESTIMATE_ROWS points among themselves, scaled to n points.

    An exact search scores every pair of points in tiles of the same size, so its time
    grows with the number of pairs: ``(n / rows) ** 2`` times the measured one.
    """
    from graphclust.data.knn import knn_indices

    rows = min(n_samples, ESTIMATE_ROWS)
    features = _features(n_samples)[:rows]
    start = time.perf_counter()
    knn_indices(features, K, METRIC)
    seconds = time.perf_counter() - start
    return {"query_rows": rows, "measured_seconds": seconds,
            "seconds": seconds * (n_samples / rows) ** 2, "rss": peak_rss_gib()}


def _in_subprocess(mode: str, n_samples: int, args) -> dict[str, float]:
    return json.loads(run_module("benchmarks.bench_knn", "--mode", mode, "--n", str(n_samples),
                                 "--threads", str(args.threads), fresh=not args.tiny))


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/knn.md", root=False, threads=2)
    parser.add_argument("--mode", choices=["full", "estimate"], help="internal: one run")
    parser.add_argument("--n", type=int, help="internal: number of points")
    args = parse(parser, argv, "benchmarks.bench_knn")
    if args.mode is not None:
        run = run_full if args.mode == "full" else run_estimate
        print(json.dumps(run(args.n)))
        return

    rows = []
    for n_samples in TINY_SIZES if args.tiny else SIZES:
        estimate = _in_subprocess("estimate", n_samples, args)
        print(n_samples, "estimate", estimate, flush=True)
        full = None
        if estimate["seconds"] <= FULL_RUN_LIMIT_S:
            full = _in_subprocess("full", n_samples, args)
            print(n_samples, "full", full, flush=True)
        rows.append((n_samples, estimate, full))

    lines = [
        *results_header("knn_graph benchmark", args.command),
        f"One subprocess per run, `torch.set_num_threads({args.threads})`.",
        "",
        f"Input: float32 `torch.randn(n, {N_FEATURES})` (seed 0); `knn_graph(X, k={K}, "
        f'metric="{METRIC}")`, exact, symmetric output, automatic block size.',
        "",
        "Method: for each size the search is first run on the first "
        f"{ESTIMATE_ROWS:,} points (all of them below that) and the time is scaled by "
        "(n / rows)², the number of pairs scored (the *estimate*). The full graph is built "
        "when the estimate is at most "
        f"{FULL_RUN_LIMIT_S // 60} minutes; otherwise only the estimate is reported, "
        "**extrapolated, not measured**.",
        "",
        "| n | pairs scored | estimate rows | estimated time (s) "
        "| full time (s) | edge entries | peak RSS (GiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n_samples, estimate, full in rows:
        if full is None:
            full_cell, edges_cell = "not run (extrapolated only)", "-"
            rss_cell = f"{estimate['rss']:.2f} (estimate run)"
        else:
            full_cell, edges_cell = f"{full['seconds']:.1f}", f"{full['edge_entries']:,}"
            rss_cell = f"{full['rss']:.2f}"
        lines.append(
            f"| {n_samples:,} | {n_samples**2:.1e} "
            f"| {estimate['query_rows']:,} | {estimate['seconds']:.1f} | {full_cell} "
            f"| {edges_cell} | {rss_cell} |"
        )
    largest, estimate, _ = rows[-1]
    lines += [
        "",
        f"At n = {largest:,} the estimate measured {estimate['query_rows']:,} points in "
        f"{estimate['measured_seconds']:.1f} s and extrapolates to {estimate['seconds']:.0f} s "
        f"(about {math.ceil(estimate['seconds'] / 60)} minutes) for all rows. Memory of a full "
        f"run is the estimate run's plus the (n, k) int64 neighbour table and the temporaries of "
        f"the symmetric edge list, about 5 x n x k x 8 bytes "
        f"({largest * K * 8 * 5 / 2**30:.1f} GiB at this size).",
        "Peak RSS includes the interpreter with torch imported and the input matrix "
        f"({N_FEATURES * 4} bytes per point).",
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
