"""Throughput of graphclust.sampling on a large attributed SBM graph.

Measures, on one device: CSR build time and size, uniform neighbour sampling
throughput (seeds per second), random-walk throughput (walker steps per second) and
sampled-positive throughput, and the process's peak resident memory. Writes a
markdown table with the command and the machine.

Example
-------
    python -m benchmarks.bench_sampling --num-nodes 1000000 --avg-degree 25 \
        --out benchmarks/results/sampling.md
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks._machine import (
    parse,
    peak_rss_gib,
    results_header,
    script_parser,
    write_results,
)
from graphclust.data.synthetic import make_sbm
from graphclust.sampling import (
    CSRGraph,
    NodeBatchPlan,
    random_walks,
    sample_neighbors,
    sample_positives,
)

#: What --tiny changes: a small graph and a few batches.
TINY = {"num_nodes": 2_000, "batch_size": 64, "num_batches": 2}
#: Walker steps per random-walk measurement (repeated calls until about this many).
WALK_STEPS = 20_000_000


def parse_args(argv=None) -> argparse.Namespace:
    parser = script_parser(__doc__.split("\n\n")[0], out="benchmarks/results/sampling.md",
                           root=False)
    parser.add_argument("--num-nodes", type=int, default=1_000_000)
    parser.add_argument("--avg-degree", type=float, default=25.0)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanouts", type=int, nargs="+", default=[10, 10])
    parser.add_argument("--order", type=int, default=3, help="random-walk length r")
    parser.add_argument("--walks-per-seed", type=int, default=10)
    parser.add_argument("--num-batches", type=int, default=50, help="timed batches per test")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parse(parser, argv, "benchmarks.bench_sampling")
    if args.tiny:
        vars(args).update(TINY)
    return args


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function: Callable[[], object], device: torch.device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def format_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.1f}" for value in load)


def main(argv=None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    load_before = os.getloadavg()
    rows: list[tuple[str, str]] = []

    generate_seconds, data = timed(
        lambda: make_sbm(args.num_nodes, 16, 8, avg_degree=args.avg_degree, random_state=args.seed),
        torch.device("cpu"),
    )
    edge_index = data.edge_index
    num_nodes = data.num_nodes
    del data
    rows.append(("graph: nodes / edge entries", f"{num_nodes:,} / {edge_index.shape[1]:,}"))
    rows.append(("make_sbm generation (CPU)", f"{generate_seconds:.2f} s"))

    build = functools.partial(CSRGraph.from_edge_index, edge_index, num_nodes, device=device)
    build_times = []
    for _ in range(3):
        seconds, csr = timed(build, device)
        build_times.append(seconds)
    # The edge index is no longer needed; free it before the sampling measurements.
    del build, edge_index
    rows.append(("CSR build (median of 3)", f"{statistics.median(build_times):.2f} s"))
    rows.append(("CSR size", f"{csr.memory_bytes() / 2**20:.0f} MiB"))

    generator = torch.Generator(device=device).manual_seed(args.seed)
    plan = NodeBatchPlan(num_nodes, args.batch_size, seed=args.seed, device=device)
    batches: list[torch.Tensor] = []
    while len(batches) < args.num_batches + 3:
        batches.extend(plan)
    warmup, batches = batches[:3], batches[3 : args.num_batches + 3]

    def sample_all() -> tuple[int, int]:
        nodes = edges = 0
        for seeds in batches:
            subgraph = sample_neighbors(csr, seeds, args.fanouts, generator)
            nodes += subgraph.num_nodes
            edges += subgraph.edge_index.shape[1]
        return nodes, edges

    for seeds in warmup:
        sample_neighbors(csr, seeds, args.fanouts, generator)
    seconds, (nodes, edges) = timed(sample_all, device)
    num_seeds = sum(batch.numel() for batch in batches)
    rows.append(
        (
            f"neighbour sampling, batch {args.batch_size}, fanouts {args.fanouts}",
            f"{num_seeds / seconds:,.0f} seeds/s ({1e3 * seconds / len(batches):.1f} ms/batch;"
            f" {nodes / len(batches):,.0f} nodes, {edges / len(batches):,.0f} edges per batch)",
        )
    )

    walker_counts = (args.batch_size * args.walks_per_seed,) + (() if args.tiny else (1_000_000,))
    for num_walkers in walker_counts:
        starts = torch.randint(0, num_nodes, (num_walkers,), generator=generator, device=device)
        random_walks(csr, starts, args.order, generator)
        walk_steps = WALK_STEPS // 1000 if args.tiny else WALK_STEPS
        repeats = max(1, walk_steps // (num_walkers * args.order))
        seconds, _ = timed(
            lambda starts=starts, repeats=repeats: [
                random_walks(csr, starts, args.order, generator) for _ in range(repeats)
            ],
            device,
        )
        rows.append(
            (
                f"random walks, {num_walkers:,} walkers x {args.order} steps",
                f"{num_walkers * args.order * repeats / seconds:,.0f} walker-steps/s "
                f"({1e3 * seconds / repeats:.1f} ms per call)",
            )
        )

    for kind in ("power", "influence"):
        for seeds in warmup:
            sample_positives(csr, seeds, args.order, args.walks_per_seed, kind, generator)
        seconds, positives = timed(
            lambda kind=kind: [
                sample_positives(csr, seeds, args.order, args.walks_per_seed, kind, generator)
                for seeds in batches
            ],
            device,
        )
        pairs = sum(p.node_ids.numel() for p in positives) / len(batches)
        rows.append(
            (
                f"sample_positives {kind!r}, batch {args.batch_size}, r={args.order}, "
                f"{args.walks_per_seed} walks/seed",
                f"{num_seeds / seconds:,.0f} seeds/s ({1e3 * seconds / len(batches):.1f} "
                f"ms/batch; {pairs:,.0f} coalesced pairs per batch)",
            )
        )

    rows.append(("peak RSS of the process", f"{peak_rss_gib():.2f} GiB"))
    if device.type == "cuda":
        peak_gpu = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(("peak GPU memory allocated", f"{peak_gpu:.2f} GiB"))

    report = [
        *results_header("Sampling throughput", args.command, str(device)),
        f"Load average (1/5/15 min) at start: {format_load(load_before)}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    print("\n".join(report))
    write_results(args.out, report)


if __name__ == "__main__":
    main()
