"""Time and memory of graphclust.data.make_sbm from 10k to 2.4M nodes.

Each size runs in a fresh subprocess so that its peak resident memory is its own.

    python -m benchmarks.bench_sbm

writes benchmarks/results/sbm.md.
"""

from __future__ import annotations

import json
import time

from benchmarks._machine import (
    parse,
    peak_rss_gib,
    results_header,
    run_module,
    script_parser,
    write_results,
)

SIZES = (10_000, 100_000, 1_000_000, 2_400_000)
TINY_SIZES = (1_000,)
N_CLUSTERS = 10
N_FEATURES = 64
AVG_DEGREE = 25


def run_one(n_nodes: int) -> dict[str, float]:
    """Generate one graph in this process and report its cost."""
    from graphclust.data.synthetic import make_sbm

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


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/sbm.md", root=False, threads=2)
    parser.add_argument("--one", type=int, help="internal: run a single size, print JSON")
    args = parse(parser, argv, "benchmarks.bench_sbm")
    if args.one is not None:
        print(json.dumps(run_one(args.one)))
        return

    rows = []
    for n_nodes in TINY_SIZES if args.tiny else SIZES:
        result = json.loads(run_module("benchmarks.bench_sbm", "--one", str(n_nodes),
                                       "--threads", str(args.threads), fresh=not args.tiny))
        print(result, flush=True)
        rows.append(result)

    lines = [
        *results_header("make_sbm benchmark", args.command),
        f"One subprocess per size, `torch.set_num_threads({args.threads})`.",
        "",
        f"Graph: `make_sbm(n_nodes, n_clusters={N_CLUSTERS}, n_features={N_FEATURES}, "
        f"avg_degree={AVG_DEGREE}, homophily=0.8, random_state=0)`.",
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
        "",
    ]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
