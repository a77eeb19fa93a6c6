"""Throughput of graphclust.sampling on a large attributed SBM graph.

Measures, on one device: CSR build time and size, uniform neighbour sampling
throughput (seeds per second), random-walk throughput (walker steps per second) and
sampled-positive throughput, and the process's peak resident memory. Writes a
markdown table with the command and the machine.

Example
-------
    python benchmarks/bench_sampling.py --num-nodes 1000000 --avg-degree 25 \
        --output benchmarks/results/sampling.md
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import torch

from graphclust.data.synthetic import make_sbm
from graphclust.sampling import (
    CSRGraph,
    NodeBatchPlan,
    random_walks,
    sample_neighbors,
    sample_positives,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-nodes", type=int, default=1_000_000)
    parser.add_argument("--avg-degree", type=float, default=25.0)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanouts", type=int, nargs="+", default=[10, 10])
    parser.add_argument("--order", type=int, default=3, help="random-walk length r")
    parser.add_argument("--walks-per-seed", type=int, default=10)
    parser.add_argument("--num-batches", type=int, default=50, help="timed batches per test")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--output", type=Path, help="markdown file to write")
    return parser.parse_args()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function: Callable[[], object], device: torch.device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def machine_description(device: torch.device) -> list[str]:
    cpu_model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    lines = [
        f"CPU: {cpu_model}, {os.cpu_count()} logical cores "
        f"(torch threads: {torch.get_num_threads()})",
        f"RAM: {psutil.virtual_memory().total / 2**30:.1f} GiB",
        f"Python {platform.python_version()}, torch {torch.__version__}, {platform.platform()}",
    ]
    threading_variables = [
        f"{name}={os.environ[name]}"
        for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
        if name in os.environ
    ]
    if threading_variables:
        lines.append("Environment: " + " ".join(threading_variables))
    if device.type == "cuda":
        lines.append(f"GPU: {torch.cuda.get_device_name(device)}")
    return lines


def format_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.1f}" for value in load)


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
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

    for num_walkers in (args.batch_size * args.walks_per_seed, 1_000_000):
        starts = torch.randint(0, num_nodes, (num_walkers,), generator=generator, device=device)
        random_walks(csr, starts, args.order, generator)
        repeats = max(1, 20_000_000 // (num_walkers * args.order))
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

    rows.append(("peak RSS of the process", f"{peak_rss_bytes() / 2**30:.2f} GiB"))
    if device.type == "cuda":
        peak_gpu = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(("peak GPU memory allocated", f"{peak_gpu:.2f} GiB"))

    command = "python " + " ".join(shlex.quote(arg) for arg in sys.argv)
    report = [
        "# Sampling throughput",
        "",
        f"Command: `{command}`",
        "",
        f"Date: {datetime.date.today().isoformat()}; device: {device}",
        "",
        *[f"- {line}" for line in machine_description(device)],
        f"- Load average (1/5/15 min) at start: {format_load(load_before)}, at end: "
        f"{format_load(os.getloadavg())}; other processes share the cores when it exceeds "
        "the core count.",
        "",
        "| measure | value |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    text = "\n".join(report)
    print(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
