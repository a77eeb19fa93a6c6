"""The first layer's backward on CSR rows: torch's own against graphclust's (SciPy's product).

Two tables, one process, the two ways in turn:

1. **Layer**: forward and backward of ``linear(x, W, b)`` for CSR rows ``x`` of random
   non-negative features, at the shapes of a mini-batch step (rows, columns, non-zeros a
   row and outputs of Coauthor CS, DBLP and Cora batches, for the MLP's first layer and
   the linear start's map): ``torch.nn.functional.linear`` against
   :func:`graphclust.nn.sparse_rows.sparse_rows_linear`, median milliseconds of
   ``REPEATS``, and the largest difference of the weight's gradients.
2. **Fits** (``--fit-datasets``): ``SCGCStar`` (``--fit-params``) with the MLP's first
   layer on torch's backward and as shipped, seed by seed (torch first on even seeds,
   ours first on odd ones, after one discarded short fit): ``fit`` seconds, their ratio
   and the agreement of the labels (ARI; the two sum the same products in other orders).

Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.bench_sparse_backward --fit-datasets cs --seeds 2
"""

from __future__ import annotations

import json
import statistics
import time
from contextlib import contextmanager
from unittest import mock

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
from benchmarks._paired_fits import paired_fit_table
from graphclust.nn import mlp
from graphclust.nn.sparse_rows import sparse_rows_linear

REPEATS = 10
#: (what, rows, columns, non-zeros a row, outputs): CS batches of 1,024 seeds read about
#: 5,150 rows; DBLP's and Cora's widths and densities after features="auto".
SHAPES = [("CS step, MLP", 5150, 6805, 60, 256), ("CS step, linear start", 5150, 6805, 60, 32),
          ("DBLP step, MLP", 5150, 334, 12, 256), ("Cora step, MLP", 2700, 1433, 18, 256)]
TINY_SHAPES = [("tiny", 64, 200, 5, 16)]
FIT_PARAMS = {"pretrain_epochs": 20, "start_holdout": None, "tol": 0, "max_epochs": 5}


def random_rows(rows: int, columns: int, per_row: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    x = torch.zeros(rows, columns)
    x.scatter_(1, torch.randint(columns, (rows, per_row), generator=generator),
               torch.rand(rows, per_row, generator=generator))
    return x.to_sparse_csr()


def step_ms(linear, x, weight, bias, grad) -> float:
    start = time.perf_counter()
    linear(x, weight, bias).backward(grad)
    elapsed = (time.perf_counter() - start) * 1000
    weight.grad = bias.grad = None
    return elapsed


def layer_rows(shapes) -> list[str]:
    lines = ["| shape | rows x columns, non-zeros a row -> outputs | torch ms | ours ms | "
             "torch / ours | max gradient difference |", "|---|---|---:|---:|---:|---:|"]
    ways = (torch.nn.functional.linear, sparse_rows_linear)
    for name, rows, columns, per_row, outputs in shapes:
        x = random_rows(rows, columns, per_row)
        weight = torch.randn(outputs, columns, requires_grad=True)
        bias = torch.zeros(outputs, requires_grad=True)
        grad = torch.randn(rows, outputs)
        gradients = []
        for linear in ways:
            linear(x, weight, bias).backward(grad)
            gradients.append(weight.grad)
            weight.grad = bias.grad = None
        times = {linear: [] for linear in ways}
        for _ in range(REPEATS):
            for linear in times:
                times[linear].append(step_ms(linear, x, weight, bias, grad))
        theirs, ours = (statistics.median(t) for t in times.values())
        difference = float((gradients[0] - gradients[1]).abs().max())
        lines.append(f"| {name} | {rows} x {columns}, {per_row} -> {outputs} | {theirs:.1f} | "
                     f"{ours:.1f} | {theirs / ours:.2f} | {difference:.1e} |")
        print(lines[-1], flush=True)
    return lines


@contextmanager
def torch_backward():
    """The MLP's first layer on ``torch.nn.functional.linear`` (torch's CSR backward)."""
    with mock.patch.object(mlp, "sparse_rows_linear", torch.nn.functional.linear):
        yield


def fit_rows(datasets, seeds: int, params: dict, root: str) -> list[str]:
    return paired_fit_table(
        datasets, seeds, params, root, "torch", torch_backward, "ARI",
        lambda theirs, ours: f"{adjusted_rand_score(theirs.labels_, ours.labels_):.3f}")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/sparse_backward.md", seeds=2)
    parser.add_argument("--fit-datasets", default="cs",
                        help="comma-separated data sets to fit (default: %(default)s; "
                             "empty: no fits)")
    parser.add_argument("--fit-params", type=json.loads, default=FIT_PARAMS,
                        help="SCGCStar parameters as JSON (default: a fixed short schedule)")
    args = parse(parser, argv, "benchmarks.bench_sparse_backward")
    datasets = [TINY_DATASET] if args.tiny else [d for d in args.fit_datasets.split(",") if d]
    params = {**args.fit_params, **fit_params(args)}
    body = [f"## Layer (forward and backward, median of {REPEATS}, the ways in turn)", "",
            *layer_rows(TINY_SHAPES if args.tiny else SHAPES), "",
            f"## SCGCStar fits ({params})", ""]
    body += fit_rows(datasets, args.seeds, params, args.root) if datasets else ["(none)"]
    # The header last: its date and load average are the run's end.
    write_results(args.out, [*results_header("The first layer's backward on CSR rows",
                                             args.command), *body])


if __name__ == "__main__":
    main()
