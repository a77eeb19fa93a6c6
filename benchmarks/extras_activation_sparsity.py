"""Activation sparsity (Lazy Neuron) of SCGC* encoders on DBLP and Cora, before and after training.

    python -m benchmarks.extras_activation_sparsity [--seeds 1] [--root ../shared/data]

For each data set, encoder and seed, fits SCGC* and measures with
:func:`graphclust.extras.activations.activation_sparsity` the fraction of exact zeros in
every activation's output over all nodes: for a freshly initialised encoder of the same
architecture (same seed) and for the trained one. Encoders: the plain MLP (features-256-32,
ReLU), the residual MLP of ``benchmarks/extras/normalization.py`` with ReLU, with squared
ReLU and with top-k (10 %). The table goes to
``benchmarks/results/extras/normalization_sparsity.md``. A diagnostic: nothing is tuned.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks._machine import fit_params, parse, results_header, script_parser, write_results
from benchmarks._recipes import EXTRAS_RECIPE
from graphclust import SCGCStar, load_dataset
from graphclust.extras.activations import activation_sparsity
from graphclust.extras.residual_mlp import ResidualMLPConfig
from graphclust.metrics import evaluate
from graphclust.nn import MLPConfig

ENCODERS = {
    "plain": MLPConfig(hidden_dims=(256,)),
    "residual-pre": ResidualMLPConfig(hidden_dim=256, num_layers=2),
    "squared-relu": ResidualMLPConfig(hidden_dim=256, num_layers=2, activation="squared_relu"),
    "topk": ResidualMLPConfig(hidden_dim=256, num_layers=2, topk=0.1),
}


def measure(dataset: str, name: str, config, seed: int, root: str,
            tiny: dict) -> list[dict]:
    graph = load_dataset(dataset, root=root)
    n_clusters = int(graph.y.max()) + 1
    model = SCGCStar(n_clusters=n_clusters, encoder=config, random_state=seed,
                     **{**EXTRAS_RECIPE, **tiny}).fit(graph)
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
    parser = script_parser(__doc__, out="benchmarks/results/extras/normalization_sparsity.md",
                           datasets="dblp,cora", seeds=1)
    args = parse(parser, argv, "benchmarks.extras_activation_sparsity")
    rows = [row for dataset in args.datasets for name, config in ENCODERS.items()
            for seed in range(args.seeds)
            for row in measure(dataset, name, config, seed, args.root, fit_params(args))]
    lines = [*results_header("Activation sparsity of SCGC* encoders (Lazy Neuron diagnostic)",
                             args.command),
             f"Seeds 0-{args.seeds - 1}, mean over seeds. Fraction of exact zeros in each "
             "activation's output over all nodes: `before` = a freshly initialised encoder "
             "of the same architecture and seed, `after` = the trained SCGC* encoder. "
             "Settings of the encoders: `benchmarks/extras/normalization.py`.", "",
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
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
