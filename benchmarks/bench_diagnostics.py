"""Layer diagnostics of SCGC* on DBLP and Cora: probing, information plane, weight statistics.

    python -m benchmarks.bench_diagnostics [--root ../shared/data] [--seed 0]

For each data set, SCGC* with its defaults is fitted once (``fitted``), and the same
estimator with no training (``pretrain="none"``, ``max_epochs=0``: the encoder at its
random initialisation, ``initial``) gives the reference. For both, every layer of the
encoder (the transformed input features, the hidden layer after its ReLU, the embedding)
is probed with k-means against the labels (:func:`graphclust.extras.diagnostics.probe_layers`),
placed on the information plane with 2, 8 and 30 bins per unit
(:func:`~graphclust.extras.diagnostics.information_plane`), and every linear layer's weights
are scored (:func:`~graphclust.extras.diagnostics.weight_statistics`). Writes
``benchmarks/results/extras/diagnostics.md``. Training never sees the labels.
"""

from __future__ import annotations

import time

from benchmarks._machine import fit_params, parse, results_header, script_parser, write_results
from benchmarks._recipes import EXTRAS_RECIPE
from graphclust import SCGCStar, evaluate, load_dataset
from graphclust.extras.diagnostics import (
    estimator_representations,
    information_plane,
    probe_layers,
    weight_statistics,
)

BINS = (2, 8, 30)


def _number(value: float, digits: int = 3) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


def diagnose(dataset: str, root: str, seed: int, tiny: dict) -> list[str]:
    graph = load_dataset(dataset, root)
    labels = graph.y.numpy()
    n_clusters = int(labels.max()) + 1
    start = time.perf_counter()
    fitted = SCGCStar(n_clusters=n_clusters, random_state=seed,
                      **{**EXTRAS_RECIPE, **tiny}).fit(graph)
    seconds = time.perf_counter() - start
    initial = SCGCStar(n_clusters=n_clusters, random_state=seed, pretrain="none",
                       max_epochs=0).fit(graph)
    models = {"initial": initial, "fitted": fitted}
    probes, planes, weights = {}, {}, {}
    for name, estimator in models.items():
        representations = estimator_representations(estimator, graph)
        probes[name] = probe_layers(representations, labels, random_state=seed)
        planes[name] = {bins: information_plane(representations, labels, bins)
                        for bins in BINS}
        weights[name] = weight_statistics(estimator.encoder_)

    head = evaluate(labels, fitted.labels_)
    lines = [f"## {dataset} ({graph.num_nodes} nodes, {n_clusters} classes)", "",
             f"Fitted SCGC* (seed {seed}, {fitted.n_iter_} epochs, {seconds:.1f} s): its own "
             f"labels (Student-t head) score ACC {head['acc']:.3f}, NMI {head['nmi']:.3f}, "
             f"ARI {head['ari']:.3f}.", "",
             "### Layer-wise k-means probing (L2-normalised layer outputs)", "",
             "| layer | width | ACC initial | ACC fitted | NMI initial | NMI fitted "
             "| ARI initial | ARI fitted |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for before, after in zip(probes["initial"], probes["fitted"], strict=True):
        lines.append(f"| {after['layer']} | {after['width']} | {before['acc']:.3f} | "
                     f"{after['acc']:.3f} | {before['nmi']:.3f} | {after['nmi']:.3f} | "
                     f"{before['ari']:.3f} | {after['ari']:.3f} |")
    first = planes["fitted"][BINS[0]][0]
    lines += ["", "### Information plane (binning estimator, bits)", "",
              f"Upper bounds: I(X;T) <= log2 N = {first['max_bits']:.2f}, "
              f"I(T;Y) <= H(Y) = {first['h_y']:.3f}.", "",
              "| layer | bins | I(X;T) initial | I(X;T) fitted | I(T;Y) initial "
              "| I(T;Y) fitted |",
              "|---|---:|---:|---:|---:|---:|"]
    for bins in BINS:
        for before, after in zip(planes["initial"][bins], planes["fitted"][bins], strict=True):
            lines.append(f"| {after['layer']} | {bins} | {before['i_xt']:.3f} | "
                         f"{after['i_xt']:.3f} | {before['i_ty']:.3f} | {after['i_ty']:.3f} |")
    lines += ["", "### Weight statistics (rows of each nn.Linear weight)", "",
              "| layer | shape | model | sparsity | redundancy (mean abs cos) | SV entropy "
              "| variance entropy |",
              "|---|---|---|---:|---:|---:|---:|"]
    for name in models:
        for row in weights[name]:
            lines.append(f"| {row['layer']} | {row['shape']} | {name} | "
                         f"{_number(row['sparsity'])} | {_number(row['redundancy'])} | "
                         f"{_number(row['sv_entropy'])} | {_number(row['variance_entropy'])} |")
    return lines + [""]


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/extras/diagnostics.md",
                           datasets="dblp,cora")
    parser.add_argument("--seed", type=int, default=0)
    args = parse(parser, argv, "benchmarks.bench_diagnostics")
    sections = [line for dataset in args.datasets
                for line in diagnose(dataset, args.root, args.seed, fit_params(args))]
    lines = [*results_header("Layer diagnostics of SCGC* (probing, information plane, weights)",
                             args.command),
             f"One seed ({args.seed}). `initial`: the encoder at its random initialisation "
             "(SCGC* with `pretrain=\"none\", max_epochs=0`); `fitted`: SCGC* with its defaults. "
             "Layers: `input` = the transformed features the encoder reads, `layers.0` = the "
             "hidden layer after ReLU, `layers.1` = the embedding (its probe is k-means on "
             "the normalised embedding). Probing: k-means (10 restarts, seeded) on each "
             "L2-normalised layer output, scored against the labels. Information plane: "
             "every unit binned into B equal-width bins over the layer's range, a row = one "
             "symbol; I(X;T) = H(T) for a deterministic encoder. Weight statistics: "
             "sparsity = fraction of rows with every |w| < 1% of the layer's max |w|; "
             "redundancy = mean |cos| between distinct rows; SV entropy and variance "
             "entropy = normalised entropies of the squared singular values of W and of W "
             "with centred rows (1 = spread evenly, 0 = rank one).", "", *sections]
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
