"""Adam's step on the CPU: torch's one-tensor loop, as graphclust runs it, against the
multi-tensor update.

On the CPU ``torch.optim.Adam`` updates one parameter at a time unless it is asked for
``foreach=True`` or ``fused=True`` (torch picks the multi-tensor update by itself only on
CUDA); graphclust's optimisers take torch's default. Two tables, one process:

1. **Step**: median milliseconds of ``REPEATS`` Adam steps (after a warm-up) over the
   parameters of SCGC*'s default MLP (``features - 256 - 32``, bias included) and a
   Student-t head, at the feature widths of Coauthor CS, Cora and DBLP, for the
   one-tensor loop, ``foreach=True`` and ``fused=True``; and the largest difference of
   the parameters from the one-tensor loop's after those steps on the same gradients.
2. **Fits** (``--fit-datasets``): ``SCGCStar`` with its defaults, seed by seed, with
   every Adam of the fit made with ``foreach=True`` and as shipped (``foreach`` first
   on even seeds, second on odd ones, after one discarded short fit): ``fit`` seconds,
   their ratio, and whether the two embeddings are equal bit for bit.

Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.bench_optimizer_step --fit-datasets dblp,cs --seeds 2
"""

from __future__ import annotations

import statistics
import time
from unittest import mock

import numpy as np
import torch

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    parse,
    results_header,
    script_parser,
    write_results,
)
from benchmarks._paired_fits import paired_fit_table

REPEATS = 50
#: (what, feature width, clusters): the first layer's width after features="auto".
SHAPES = [("CS", 6805, 15), ("Cora", 1433, 7), ("DBLP", 334, 4)]
TINY_SHAPES = [("tiny", 200, 3)]
WAYS = {"one tensor": {"foreach": False}, "foreach": {"foreach": True},
        "fused": {"fused": True}}


def model_parameters(width: int, clusters: int) -> list[torch.Tensor]:
    """Seeded tensors of the shapes of SCGC*'s default MLP and head."""
    generator = torch.Generator().manual_seed(0)
    shapes = [(256, width), (256,), (32, 256), (32,), (clusters, 32)]
    return [torch.randn(shape, generator=generator) for shape in shapes]


def step_rows(shapes) -> list[str]:
    lines = ["| features | parameters | " + " | ".join(f"{way} ms" for way in WAYS)
             + " | one tensor / foreach | max difference, foreach | max difference, fused |",
             "|---|---:|" + "---:|" * (len(WAYS) + 3)]
    for name, width, clusters in shapes:
        initial = model_parameters(width, clusters)
        generator = torch.Generator().manual_seed(1)
        gradients = [[torch.randn(p.shape, generator=generator) for p in initial]
                     for _ in range(REPEATS)]
        times, final = {}, {}
        for way, options in WAYS.items():
            params = [torch.nn.Parameter(p.clone()) for p in initial]
            optimizer = torch.optim.Adam(params, lr=1e-3, **options)
            elapsed = []
            for step_gradients in gradients:
                for p, g in zip(params, step_gradients, strict=True):
                    p.grad = g
                start = time.perf_counter()
                optimizer.step()
                elapsed.append((time.perf_counter() - start) * 1000)
            times[way] = statistics.median(elapsed[1:])  # the first step allocates state
            final[way] = [p.detach() for p in params]

        difference = {way: max(float((a - b).abs().max())
                               for a, b in zip(final[way], final["one tensor"], strict=True))
                      for way in ("foreach", "fused")}
        count = sum(p.numel() for p in initial)
        lines.append(f"| {name} ({width}) | {count:,} | "
                     + " | ".join(f"{times[way]:.2f}" for way in WAYS)
                     + f" | {times['one tensor'] / times['foreach']:.2f} | "
                     f"{difference['foreach']:.1e} | {difference['fused']:.1e} |")
        print(lines[-1], flush=True)
    return lines


class ForeachAdam(torch.optim.Adam):
    """``torch.optim.Adam`` with the multi-tensor update, whatever the caller asks."""

    def __init__(self, params, **options) -> None:
        super().__init__(params, **{**options, "foreach": True})


def fit_rows(datasets, seeds: int, params: dict, root: str) -> list[str]:
    return paired_fit_table(
        datasets, seeds, params, root, "foreach",
        lambda: mock.patch.object(torch.optim, "Adam", ForeachAdam), "embeddings equal",
        lambda ours, shipped: "yes" if np.array_equal(ours.embedding_, shipped.embedding_)
        else "no")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/optimizer_step.md", seeds=2)
    parser.add_argument("--fit-datasets", default="",
                        help="comma-separated data sets to fit both ways (none by default)")
    args = parse(parser, argv, "benchmarks.bench_optimizer_step")
    datasets = [TINY_DATASET] if args.tiny else [d for d in args.fit_datasets.split(",") if d]
    body = [f"## Step ({REPEATS} steps, median ms; one torch thread unless the command "
            "says otherwise)", "", *step_rows(TINY_SHAPES if args.tiny else SHAPES)]
    if datasets:
        body += ["", "## Fits (`fit` seconds, defaults"
                 + (f", except {fit_params(args)}" if fit_params(args) else "") + ")", "",
                 *fit_rows(datasets, args.seeds, fit_params(args), args.root)]
    # The header last: its date and load average are the run's end.
    lines = [*results_header("Adam's step on the CPU: one tensor at a time against foreach",
                             args.command), *body]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
