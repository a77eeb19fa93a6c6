"""Activation sparsity (Lazy Neuron) of SCGC* encoders on DBLP and Cora, before and after training.

    python benchmarks/extras_activation_sparsity.py [--seeds 1] [--root ../shared/data]

For each data set, encoder and seed, fits SCGC* and measures with
:func:`graphclust.extras.activations.activation_sparsity` the fraction of exact zeros in
every activation's output over all nodes: for a freshly initialised encoder of the same
architecture (same seed) and for the trained one. Encoders: the plain MLP (features-256-32,
ReLU), the residual MLP of ``benchmarks/extras/normalization.py`` with ReLU, with squared
ReLU and with top-k (10 %). The table goes to
``benchmarks/results/extras/normalization_sparsity.md``. A diagnostic: nothing is tuned.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import LOAD_NOTE, load_average, machine_info, write_results  # noqa: E402
from _recipes import EXTRAS_RECIPE  # noqa: E402

from graphclust import SCGCStar, load_dataset  # noqa: E402
from graphclust.extras.activations import activation_sparsity  # noqa: E402
from graphclust.extras.residual_mlp import ResidualMLPConfig  # noqa: E402
from graphclust.metrics import evaluate  # noqa: E402
from graphclust.nn import MLPConfig  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "extras" / "normalization_sparsity.md"

ENCODERS = {
    "plain": MLPConfig(hidden_dims=(256,)),
    "residual-pre": ResidualMLPConfig(hidden_dim=256, num_layers=2),
    "squared-relu": ResidualMLPConfig(hidden_dim=256, num_layers=2, activation="squared_relu"),
    "topk": ResidualMLPConfig(hidden_dim=256, num_layers=2, topk=0.1),
}


def measure(dataset: str, name: str, config, seed: int, root: str) -> list[dict]:
    graph = load_dataset(dataset, root=root)
    n_clusters = int(graph.y.max()) + 1
    model = SCGCStar(n_clusters=n_clusters, encoder=config, random_state=seed,
                     **EXTRAS_RECIPE).fit(graph)
    with torch.no_grad():
        x = model.transform_.transform(graph.x)
    torch.manual_seed(seed)
    untrained = config.build(x.shape[1], int(model.embedding_dim))
    before = activation_sparsity(untrained, x)
    after = activation_sparsity(model.encoder_, x)
    acc = evaluate(graph.y.numpy(), model.labels_)["acc"]
    return [{"dataset": dataset, "encoder": name, "seed": seed, "layer": layer,
             "before": before[layer], "after": after[layer], "acc": acc}
            for layer in after]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--root", default="../shared/data")
    parser.add_argument("--datasets", default="dblp,cora")
    args = parser.parse_args(argv)
    command = "python benchmarks/extras_activation_sparsity.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    rows = [row for dataset in args.datasets.split(",") for name, config in ENCODERS.items()
            for seed in range(args.seeds) for row in measure(dataset, name, config, seed,
                                                             args.root)]
    lines = ["# Activation sparsity of SCGC* encoders (Lazy Neuron diagnostic)", "",
             f"Command: `{command}` ({datetime.date.today().isoformat()}); seeds "
             f"0-{args.seeds - 1}, mean over seeds. Fraction of exact zeros in each "
             "activation's output over all nodes: `before` = a freshly initialised encoder "
             "of the same architecture and seed, `after` = the trained SCGC* encoder. "
             "Settings of the encoders: `benchmarks/extras/normalization.py`.", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in machine_info().items())
             + f"; load average at the end {load_average()}. " + LOAD_NOTE, "",
             "| data set | encoder | activation | zeros before | zeros after | ACC |",
             "|---|---|---|---:|---:|---:|"]
    keys = dict.fromkeys((r["dataset"], r["encoder"], r["layer"]) for r in rows)
    for dataset, encoder, layer in keys:
        group = [r for r in rows if (r["dataset"], r["encoder"], r["layer"]) == (
            dataset, encoder, layer)]
        lines.append(f"| {dataset} | {encoder} | `{layer}` "
                     f"| {np.mean([r['before'] for r in group]):.3f} "
                     f"| {np.mean([r['after'] for r in group]):.3f} "
                     f"| {np.mean([r['acc'] for r in group]):.3f} |")
    write_results(OUT, lines + [""])


if __name__ == "__main__":
    main()
