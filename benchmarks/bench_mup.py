"""Learning-rate transfer across widths: standard parametrisation (SP) against muP on Cora.

For every hidden width and learning rate, SCGC* is fitted once per seed with the plain
one-hidden-layer encoder (``MLPConfig(hidden_dims=(width,))``, SP) and with its muP
version (``MuPMLPConfig(hidden_dims=(width,), base_width=64)``,
:mod:`graphclust.extras.mup`). muP's promise: the best learning rate found at one width
stays the best at the others, while under SP it drifts as the width grows.

Every run has the same budget so that losses compare across learning rates: the
contrastive start (50 Adam steps at ``pretrain_lr``), then exactly ``--max-epochs``
training epochs (``tol=0``: the stopping rule is off). A swept learning rate ``eta``
sets ``lr = eta`` and ``pretrain_lr = eta * 10 / 3`` (the defaults' ratio; ``eta =
3e-4`` is the estimator's default). The table reports the final ACC and the final
training loss (``beta KL + alpha contrastive`` of the last epoch).

Usage::

    python -m benchmarks.bench_mup --root ../shared/data
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    parse,
    results_header,
    script_parser,
    write_results,
)
from benchmarks._recipes import EXTRAS_RECIPE
from graphclust import SCGCStar, evaluate, load_dataset
from graphclust.extras.mup import MuPMLPConfig
from graphclust.nn import MLPConfig

PRETRAIN_RATIO = 1e-3 / 3e-4  # the contrastive start's pretrain_lr ("auto": 1e-3) / lr


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def encoder_config(parametrisation: str, width: int, base_width: int):
    if parametrisation == "SP":
        return MLPConfig(hidden_dims=(width,))
    return MuPMLPConfig(hidden_dims=(width,), base_width=base_width)


def run(graph, parametrisation: str, width: int, eta: float, seed: int, args) -> dict:
    n_clusters = int(graph.y.max()) + 1
    estimator = SCGCStar(n_clusters=n_clusters, random_state=seed, lr=eta,
                         max_epochs=args.max_epochs, tol=0.0,
                         encoder=encoder_config(parametrisation, width, args.base_width),
                         **{**EXTRAS_RECIPE, "pretrain_lr": eta * PRETRAIN_RATIO,
                            **args.tiny_start})
    start = time.perf_counter()
    estimator.fit(graph)
    seconds = time.perf_counter() - start
    last = [entry for entry in estimator.history_ if entry["phase"] == "train"][-1]
    scores = evaluate(graph.y.numpy(), estimator.labels_)
    return {"parametrisation": parametrisation, "width": width, "lr": eta, "seed": seed,
            "acc": scores["acc"], "nmi": scores["nmi"], "loss": last["loss"],
            "seconds": seconds}


def _mean(rows, key):
    return float(np.mean([row[key] for row in rows]))


def write_report(path: Path, rows: list[dict], args) -> None:
    lrs, widths = args.lrs, args.widths
    lines = [
        *results_header(f"muP learning-rate transfer on {args.dataset} (SCGC*)", args.command),
        f"Encoder features-width-32 (one hidden layer): SP = `MLPConfig(hidden_dims=(width,))`, "
        f"muP = `MuPMLPConfig(hidden_dims=(width,), base_width={args.base_width})`. Each run: "
        f"50 contrastive start steps at `pretrain_lr = lr * 10/3`, then exactly "
        f"{args.max_epochs} training epochs at `lr` (`tol=0`, shorter than the default 200 "
        f"with early stopping, to keep the sweep to minutes). Seeds "
        f"{', '.join(map(str, args.seed_list))}; cells are means over seeds: "
        "final ACC / final training loss. **Bold**: the lowest loss in the row.", "",
    ]
    for parametrisation in ("SP", "muP"):
        lines += [f"## {parametrisation}", "",
                  "| width | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " | best lr (loss) "
                  "| best lr (ACC) |",
                  "|---:|" + "---:|" * (len(lrs) + 2)]
        for width in widths:
            cells, losses, accs = [], [], []
            for lr in lrs:
                runs = [r for r in rows if r["parametrisation"] == parametrisation
                        and r["width"] == width and r["lr"] == lr]
                losses.append(_mean(runs, "loss"))
                accs.append(_mean(runs, "acc"))
            best_loss, best_acc = int(np.argmin(losses)), int(np.argmax(accs))
            for index, (acc, loss) in enumerate(zip(accs, losses, strict=True)):
                cell = f"{acc:.3f} / {loss:.4f}"
                cells.append(f"**{cell}**" if index == best_loss else cell)
            lines.append(f"| {width} | " + " | ".join(cells)
                         + f" | {lrs[best_loss]:g} | {lrs[best_acc]:g} |")
        lines.append("")
    lines += ["## Runs", "",
              "| parametrisation | width | lr | seed | ACC | NMI | final loss | fit s |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['parametrisation']} | {r['width']} | {r['lr']:g} | {r['seed']} "
              f"| {r['acc']:.3f} | {r['nmi']:.3f} | {r['loss']:.4f} | {r['seconds']:.1f} |"
              for r in rows]
    write_results(path, lines)


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/extras/mup_sweep.md", seeds=1)
    parser.add_argument("--widths", type=_ints, default=[64, 256, 1024])
    parser.add_argument("--lrs", type=_floats, default=[1e-4, 3e-4, 1e-3, 3e-3])
    parser.add_argument("--base-width", type=int, default=64)
    parser.add_argument("--max-epochs", type=int, default=50)
    args = parse(parser, argv, "benchmarks.bench_mup")
    args.dataset = TINY_DATASET if args.tiny else "cora"
    args.tiny_start = {key: value for key, value in fit_params(args).items()
                       if key == "pretrain_epochs"}
    if args.tiny:
        args.widths, args.lrs, args.max_epochs = [16], [1e-3], fit_params(args)["max_epochs"]
    args.seed_list = list(range(args.seeds))
    graph = load_dataset(args.dataset, root=args.root)
    rows = []
    for parametrisation in ("SP", "muP"):
        for width in args.widths:
            for lr in args.lrs:
                for seed in args.seed_list:
                    row = run(graph, parametrisation, width, lr, seed, args)
                    rows.append(row)
                    print(f"{parametrisation} width {width} lr {lr:g} seed {seed}: "
                          f"ACC {row['acc']:.3f} loss {row['loss']:.4f} "
                          f"({row['seconds']:.1f} s)", flush=True)
    write_report(args.out, rows, args)


if __name__ == "__main__":
    main()
