"""When sparse CSR features pay off (graphclust.nn.sparse_rows), and what they change.

Three tables, one process:

1. **Crossover**: forward and backward (the weight's and bias's gradients) of a linear
   layer ``width -> 256`` over ``--rows`` rows of random non-negative features at several
   densities, dense rows against CSR rows (best of ``REPEATS``), and the one-time
   conversion. This sets :data:`graphclust.nn.sparse_rows.SPARSE_ROWS_DENSITY`.
2. **The rule on the data sets**: the share of non-zero entries of each data set's
   features after the fit's ``features="auto"`` transform, and whether the rule keeps
   them as CSR rows (for an encoder that takes them).
3. **Fits** (``--fit-datasets``): ``SCGCStar`` (``--fit-params``) with the rule forced off
   (dense rows, the threshold at 0) and as shipped, seed by seed, the two in turn in this
   process: ``fit`` seconds, their ratio, and the agreement of the labels (ARI).

Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.bench_sparse_input \\
        --datasets dblp,cora,photo,cs,digits,uat --fit-datasets cora,dblp --seeds 2
"""

from __future__ import annotations

import json
import statistics
import time

import torch
from sklearn.metrics import adjusted_rand_score

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    parse,
    results_header,
    script_parser,
    write_results,
)
from graphclust.nn import sparse_rows

WIDTHS = (512, 2048, 8192)
TINY_WIDTHS = (256,)
DENSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
HIDDEN = 256
REPEATS = 3


def _step_seconds(layer: torch.nn.Linear, x: torch.Tensor) -> float:
    """Best time of a forward and backward pass of ``layer`` over ``x``."""
    best = float("inf")
    for _ in range(REPEATS):
        layer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        layer(x).square().mean().backward()
        best = min(best, time.perf_counter() - start)
    return best


def crossover(rows: int, widths, densities) -> list[dict]:
    """Dense and CSR step times of a ``width -> HIDDEN`` layer at every density."""
    generator = torch.Generator().manual_seed(0)
    results = []
    for width in widths:
        layer = torch.nn.Linear(width, HIDDEN)
        for density in densities:
            x = torch.rand(rows, width, generator=generator)
            x[torch.rand(rows, width, generator=generator) >= density] = 0.0
            start = time.perf_counter()
            csr = x.to_sparse_csr()
            convert = time.perf_counter() - start
            results.append({"width": width, "density": density,
                            "dense": _step_seconds(layer, x), "csr": _step_seconds(layer, csr),
                            "convert": convert})
    return results


def _transformed(graph) -> torch.Tensor:
    from graphclust.data.transforms import FeatureTransform

    degree = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes)
    return FeatureTransform("auto").fit(graph.x, degree).transform(graph.x)


def _fit(graph, seed: int, params: dict, threshold: float) -> tuple[float, object]:
    from graphclust import SCGCStar

    shipped = sparse_rows.SPARSE_ROWS_DENSITY
    sparse_rows.SPARSE_ROWS_DENSITY = threshold
    try:
        model = SCGCStar(n_clusters=int(graph.y.max()) + 1, random_state=seed, **params)
        start = time.perf_counter()
        model.fit(graph)
        return time.perf_counter() - start, model.labels_
    finally:
        sparse_rows.SPARSE_ROWS_DENSITY = shipped


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/sparse_input.md",
                           datasets="dblp,cora,photo,cs,digits,uat", seeds=2)
    parser.add_argument("--rows", type=int, default=4096, help="rows of the crossover")
    parser.add_argument("--fit-datasets", default="cora,dblp",
                        help="comma-separated data sets fitted both ways ('' for none)")
    parser.add_argument("--fit-params", type=json.loads, default={},
                        help="SCGCStar parameters of those fits, a JSON object")
    args = parse(parser, argv, "benchmarks.bench_sparse_input")
    fit_names = [name for name in args.fit_datasets.split(",") if name]
    if args.tiny:
        args.rows, fit_names = 64, [TINY_DATASET]
    from graphclust.data import load_dataset

    layer = crossover(args.rows, TINY_WIDTHS if args.tiny else WIDTHS, DENSITIES)
    densities = {}
    for name in args.datasets:
        x = _transformed(load_dataset(name, root=args.root))
        densities[name] = (float(torch.count_nonzero(x)) / x.numel(),
                           sparse_rows.faster_as_sparse_rows(x), tuple(x.shape))
    params = {**fit_params(args), **args.fit_params}
    fits = []
    for name in fit_names:
        graph = load_dataset(name, root=args.root)
        for seed in range(args.seeds):
            dense_s, dense_labels = _fit(graph, seed, params, 0.0)
            sparse_s, sparse_labels = _fit(graph, seed, params, sparse_rows.SPARSE_ROWS_DENSITY)
            fits.append((name, seed, dense_s, sparse_s,
                         adjusted_rand_score(dense_labels, sparse_labels),
                         bool((dense_labels == sparse_labels).all())))
            print(*fits[-1], flush=True)

    lines = [*results_header("Sparse CSR features: crossover, rule, fits", args.command),
             f"## Crossover: a linear layer width -> {HIDDEN} over {args.rows} rows", "",
             f"Forward + backward seconds, best of {REPEATS}; convert: dense -> CSR once.", "",
             "| width | density | dense s | CSR s | dense / CSR | convert s |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['width']} | {r['density']:.3f} | {r['dense']:.4f} | {r['csr']:.4f} | "
              f"{r['dense'] / r['csr']:.2f} | {r['convert']:.4f} |" for r in layer]
    lines += ["", f"## The rule (SPARSE_ROWS_DENSITY = {sparse_rows.SPARSE_ROWS_DENSITY})", "",
              "| data set | nodes x features | non-zero share after features='auto' | CSR rows |",
              "|---|---|---:|---|"]
    lines += [f"| {name} | {shape[0]} x {shape[1]} | {share:.4f} | {'yes' if fires else 'no'} |"
              for name, (share, fires, shape) in densities.items()]
    lines += ["", f"## SCGCStar fits, dense rows against the rule ({params or 'defaults'})", "",
              "| data set | seed | dense s | rule s | rule / dense | ARI | same labels |",
              "|---|---|---:|---:|---:|---:|---|"]
    lines += [f"| {name} | {seed} | {dense_s:.1f} | {sparse_s:.1f} | {sparse_s / dense_s:.2f} | "
              f"{ari:.4f} | {'yes' if same else 'no'} |"
              for name, seed, dense_s, sparse_s, ari, same in fits]
    if fits:
        lines += ["", "Median rule / dense: "
                  f"{statistics.median(f[3] / f[2] for f in fits):.2f}."]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
