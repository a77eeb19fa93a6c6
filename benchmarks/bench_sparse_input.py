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

import argparse
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
from benchmarks.bench_feature_homophily import auto_features
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


def _fit(graph, seed: int, params: dict, threshold: float) -> dict:
    """One ``SCGCStar`` fit with the rule's threshold at ``threshold``."""
    from graphclust import SCGCStar, evaluate

    shipped = sparse_rows.SPARSE_ROWS_DENSITY
    sparse_rows.SPARSE_ROWS_DENSITY = threshold
    try:
        model = SCGCStar(n_clusters=int(graph.y.max()) + 1, random_state=seed, **params)
        start = time.perf_counter()
        model.fit(graph)
        seconds = time.perf_counter() - start
    finally:
        sparse_rows.SPARSE_ROWS_DENSITY = shipped
    return {"seconds": seconds, "labels": model.labels_, "epochs": model.n_iter_,
            "start": [e["epoch"] for e in model.history_ if e.get("kept")],
            "acc": evaluate(graph.y.numpy(), model.labels_)["acc"]}


def _rounding_perturbed(graph, seed: int):
    """``graph`` with every feature scaled by ``1 + u * noise`` (``u``: float32's unit
    roundoff, ``noise`` standard normal): the dense path's own sensitivity to a change
    as small as a different summation order's."""
    perturbed = graph.clone()
    noise = torch.randn(graph.x.shape, generator=torch.Generator().manual_seed(seed))
    perturbed.x = graph.x * (1 + 2.0**-24 * noise)
    return perturbed


def fit_pairs(graph, name: str, seeds: int, params: dict) -> list[dict]:
    """Per seed: fits with dense rows, with the rule, and with dense rows on features
    perturbed at rounding level (:func:`_rounding_perturbed`)."""
    rows = []
    for seed in range(seeds):
        dense = _fit(graph, seed, params, 0.0)
        rule = _fit(graph, seed, params, sparse_rows.SPARSE_ROWS_DENSITY)
        perturbed = _fit(_rounding_perturbed(graph, seed), seed, params, 0.0)
        rows.append({"name": name, "seed": seed, "dense": dense, "rule": rule,
                     "ari": adjusted_rand_score(dense["labels"], rule["labels"]),
                     "ari_perturbed": adjusted_rand_score(dense["labels"],
                                                          perturbed["labels"])})
        print(name, seed, dense["seconds"], rule["seconds"], rows[-1]["ari"],
              rows[-1]["ari_perturbed"], flush=True)
    return rows


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/sparse_input.md",
                           datasets="dblp,cora,photo,cs,digits,uat", seeds=2)
    parser.add_argument("--rows", type=int, default=4096, help="rows of the crossover")
    parser.add_argument("--crossover", action=argparse.BooleanOptionalAction, default=True,
                        help="time the layer (table 1; --no-crossover: skip it)")
    parser.add_argument("--fit-datasets", default="cora,dblp",
                        help="comma-separated data sets fitted both ways ('' for none)")
    parser.add_argument("--fit-params", type=json.loads, default={},
                        help="SCGCStar parameters of those fits, a JSON object")
    args = parse(parser, argv, "benchmarks.bench_sparse_input")
    fit_names = [name for name in args.fit_datasets.split(",") if name]
    if args.tiny:
        args.rows, fit_names = 64, [TINY_DATASET]
    from graphclust.data import load_dataset

    layer = crossover(args.rows, TINY_WIDTHS if args.tiny else WIDTHS, DENSITIES) \
        if args.crossover else []
    densities = {}
    for name in args.datasets:
        graph = load_dataset(name, root=args.root)
        x = auto_features(graph).transform(graph.x)
        densities[name] = (float(torch.count_nonzero(x)) / x.numel(),
                           sparse_rows.faster_as_sparse_rows(x), tuple(x.shape))
    params = {**fit_params(args), **args.fit_params}
    fits = [row for name in fit_names
            for row in fit_pairs(load_dataset(name, root=args.root), name, args.seeds, params)]

    lines = [*results_header("Sparse CSR features: crossover, rule, fits", args.command)]
    if layer:
        lines += [f"## Crossover: a linear layer width -> {HIDDEN} over {args.rows} rows", "",
                  f"Forward + backward seconds, best of {REPEATS}; convert: dense -> CSR once.",
                  "", "| width | density | dense s | CSR s | dense / CSR | convert s |",
                  "|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['width']} | {r['density']:.3f} | {r['dense']:.4f} | {r['csr']:.4f} | "
                  f"{r['dense'] / r['csr']:.2f} | {r['convert']:.4f} |" for r in layer]
    lines += ["", f"## The rule (SPARSE_ROWS_DENSITY = {sparse_rows.SPARSE_ROWS_DENSITY})", "",
              "| data set | nodes x features | non-zero share after features='auto' | CSR rows |",
              "|---|---|---:|---|"]
    lines += [f"| {name} | {shape[0]} x {shape[1]} | {share:.4f} | {'yes' if fires else 'no'} |"
              for name, (share, fires, shape) in densities.items()]
    lines += ["", f"## SCGCStar fits, dense rows against the rule ({params or 'defaults'})", "",
              "`fit` seconds in this process, the dense fit first; start: the start's chosen "
              "length, epochs: the joint stage's; ARI of the rule's labels and of a dense fit "
              "on features perturbed at rounding level (each scaled by 1 + 2^-24 N(0, 1)) "
              "against the dense fit's labels; ACC against the classes.", "",
              "| data set | seed | dense s | rule s | rule / dense | start dense / rule "
              "| epochs dense / rule | ARI rule | ARI perturbed dense | ACC dense / rule |",
              "|---|---|---:|---:|---:|---|---|---:|---:|---|"]
    lines += [f"| {f['name']} | {f['seed']} | {f['dense']['seconds']:.1f} | "
              f"{f['rule']['seconds']:.1f} | {f['rule']['seconds'] / f['dense']['seconds']:.2f} "
              f"| {f['dense']['start']} / {f['rule']['start']} | {f['dense']['epochs']} / "
              f"{f['rule']['epochs']} | {f['ari']:.4f} | {f['ari_perturbed']:.4f} | "
              f"{f['dense']['acc']:.4f} / {f['rule']['acc']:.4f} |" for f in fits]
    if fits:
        ratio = statistics.median(f["rule"]["seconds"] / f["dense"]["seconds"] for f in fits)
        lines += ["", f"Median rule / dense seconds: {ratio:.2f}."]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
