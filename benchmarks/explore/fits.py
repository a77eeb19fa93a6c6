"""Probes with the released estimator behind benchmarks/results/notes_part3.md and notes_part4.md.

    python -m benchmarks.explore.fits fit DATASET --seeds 2 --params '{"max_epochs": 0}'
    python -m benchmarks.explore.fits smooth DATASET --seeds 2 [--subgraph N]
    python -m benchmarks.explore.fits drift DATASET --seeds 2 [--params JSON]
    python -m benchmarks.explore.fits fit DATASET --edges feature-knn|feature-pruned|none
    python -m benchmarks.explore.fits consensus DATASET --seeds 2 --restarts 5
    python -m benchmarks.explore.fits curve DATASET --seeds 1 [--params JSON]
    python -m benchmarks.explore.fits baselines DATASET --edges feature-knn

``fit``: SCGC* with its defaults updated by ``--params``; per seed, ACC / NMI of
``labels_``, the start's length (the held-out rule's choice), the joint-stage epochs, the
stopping rule's drift every tenth epoch and the R² of ``labels_`` (below, ``drift``) on
the unpropagated transformed features.
``smooth``: the default fit's embedding Z, L2-normalised after propagation, clustered by
k-means: ACC / NMI of ``S^t Z`` for t = 0..3 (S as ``svd-kmeans`` propagates) and its ARI
with ``labels_``, beside ``labels_``' scores and modularity.
``drift``: the joint stage's partition at every epoch (read through the scores the loop
records when the fit is given labels): ACC / NMI, and two label-free scores a stopping
rule could read, its modularity and the share of the transformed features' variance
between its clusters (R²), about every tenth epoch; cluster sizes at the first and last
epoch. ``--edges``: train on other edges than the graph's: ``feature-knn``, the symmetric
``--knn``-nearest-neighbour graph (10; ``--knn-metric``, euclidean) of the transformed
features (``features="auto"``); ``feature-pruned``, the graph's own edges cut to each
node's ``--knn`` most similar neighbours by those features (a node keeps an edge that
either end keeps, so nodes of degree at most ``--knn`` keep every edge); ``none``, no
edges; either way the fit keeps the feature transform ``"auto"`` resolves to on the
given graph (``--params`` may name another). ``consensus``: ``--restarts``
fits (seeds ``g R`` to ``g R + R - 1`` for group g), each one's ACC / NMI, their mean
pairwise ARI, and two label-free ways to merge them: k-means on the runs' one-hot labels
side by side (co-association consensus) and the medoid run (highest mean ARI with the
others). ``curve``: the start alone, its held-out rule kept from stopping
(``START_EROSION`` and ``START_RANK_EROSION`` set to infinity for the run): the held-out
loss and rank share at every check, the
length the rule would pick (0 where the loss never fell by the gate, ``start_gate``),
the step of the loss's minimum, the fall to the lowest check the rule read as a share
of ``cluster_code_fall``, and the gate (nats) beside ``cluster_code_fall``.
``baselines``: ``svd-kmeans`` at t = 0..3 on the graph the other probes train on,
reading the features through the transform they name
(``--params``' ``features``, else ``"auto"``). ``--loss-rule-only``: the start's
held-out rule reads the loss alone, as before notes part 10 (``START_RANK_EROSION``
infinite for the run).
DATASET ``sbm``: ``make_sbm`` at 5,000 nodes with ``bench_scale_quality``'s setting
(seeded by the seed); ``table:NAME``: a table without edges (``iris``, ``wine``,
``breast-cancer``, ``digits``, ``blobs``, ``blobs-close``, ``moons``, or a data set's
features alone) with the kNN graph that ``fit(X)`` builds. One JSON line per seed (per
group for ``consensus``); ``--tiny``: karate, one seed, a few epochs.
"""

from __future__ import annotations

import json
from contextlib import contextmanager, nullcontext
from unittest.mock import patch

import torch
import torch.nn.functional as F

import graphclust.starts.contrastive as start_module
import graphclust.starts.held_out_rule as held_out_rule
import graphclust.training.loop as training_loop
from benchmarks._machine import TINY_DATASET, fit_params, parse, script_parser
from benchmarks.explore._graphs import add_edge_options, chosen_edges, load_graph
from graphclust import SCGCStar, SVDKMeans, evaluate
from graphclust.data.propagation import propagation_powers
from graphclust.data.transforms import FeatureTransform
from graphclust.kmeans import kmeans
from graphclust.metrics import modularity
from graphclust.objectives import cluster_code_fall

SMOOTHING_STEPS = 3
def rounded_scores(labels, predicted) -> list[float]:
    """ACC and NMI of ``predicted`` against ``labels``, to the fourth decimal."""
    scores = evaluate(labels, predicted)
    return [round(scores["acc"], 4), round(scores["nmi"], 4)]


def probe(kind: str, graph, seed: int, params: dict) -> dict:
    """One seed of ``kind`` (``fit``, ``smooth``, ``drift``, ``curve`` or ``baselines``)
    on ``graph``."""
    if kind == "baselines":
        return {"seed": seed, **_baselines(graph, seed, params.get("features", "auto"))}
    if kind == "drift":
        return {"seed": seed, **_drift(graph, seed, params)}
    if kind == "curve":
        return {"seed": seed, **_held_out_curve(graph, seed, params)}
    labels = graph.y.numpy()
    n_clusters = int(labels.max()) + 1
    fitted = SCGCStar(n_clusters, random_state=seed, **params).fit(graph)
    row = {"seed": seed, "labels_": rounded_scores(labels, fitted.labels_)}
    if kind == "fit":
        row["start_length"] = [entry["epoch"] for entry in fitted.history_
                               if entry.get("kept")]
        # The held-out partners' rank share at the kept check (tau-free; None: no check).
        row["held_out_rank"] = next((round(entry["held_out_rank"], 5)
                                     for entry in fitted.history_
                                     if entry.get("kept") and "held_out_rank" in entry),
                                    None)
        row["epochs"] = fitted.n_iter_
        # The stopping rule's signal every tenth epoch: the share of nodes whose cluster
        # changed over the last check_interval epochs (it stops below tol).
        drift = [entry["changed_window"] for entry in fitted.history_
                 if "changed_window" in entry]
        row["window_drift_every_10"] = [round(value, 4) for value in drift[::10]]
        # A label-free score of labels_: the share of the unpropagated transformed
        # features' variance between its clusters (R²).
        features = fitted.transform_.transform(graph.x).to_sparse_csr()
        row["r2"] = round(_between_share(features, torch.as_tensor(fitted.labels_),
                                         n_clusters), 5)
        return row
    # Label-free facts a rule could read: the partition's modularity, and how far each
    # smoothed partition is from labels_ (ARI).
    row["modularity"] = round(modularity(graph.edge_index, fitted.labels_, len(labels)), 4)
    embedding = torch.as_tensor(fitted.transform(graph), dtype=torch.float32)
    powers = propagation_powers(embedding, graph.edge_index, 0, SMOOTHING_STEPS)
    for steps, smoothed in enumerate(powers):
        predicted = kmeans(F.normalize(smoothed, dim=1), n_clusters,
                           generator=torch.Generator().manual_seed(seed)).labels.numpy()
        row[f"t{steps}"] = [*rounded_scores(labels, predicted),
                            round(evaluate(fitted.labels_, predicted)["ari"], 4)]
    return row


def _between_share(x: torch.Tensor, labels: torch.Tensor, n_clusters: int) -> float:
    """Share of ``x``'s variance between the clusters of ``labels`` (R², CSR ``x``)."""
    crow = x.crow_indices()
    rows = torch.repeat_interleave(torch.arange(x.shape[0]), crow[1:] - crow[:-1])
    sums = torch.zeros(n_clusters, x.shape[1], dtype=torch.float64)
    sums.index_put_((labels[rows], x.col_indices()), x.values().double(), accumulate=True)
    counts = torch.bincount(labels, minlength=n_clusters).double()
    grand = float(sums.sum(0).square().sum()) / len(labels)
    total = float(x.values().double().square().sum()) - grand
    kept = counts > 0
    return (float((sums[kept].square().sum(1) / counts[kept]).sum()) - grand) / total


def _baselines(graph, seed: int, features: str) -> dict:
    """``svd-kmeans``' ACC / NMI at t = 0..SMOOTHING_STEPS propagation steps."""
    labels = graph.y.numpy()
    return {f"svd_t{steps}": rounded_scores(labels, SVDKMeans(
                int(labels.max()) + 1, propagation_steps=steps, features=features,
                random_state=seed).fit_predict(graph))
            for steps in range(SMOOTHING_STEPS + 1)}


def rule_length(curve: list, gate: float, check_interval: int = 10,
                ranks: list | None = None):
    """The start's length the held-out rule picks on a recorded ``curve`` (``[step,
    loss]`` pairs from step 0) with ``gate`` (0: the edges teach nothing), and the
    rule's reading of it; ``ranks``, the rank share at the same checks (curves recorded
    before it was: the loss alone)."""
    shares = [None] * len(curve) if ranks is None else [share for _, share in ranks]
    reading = held_out_rule.HeldOutReading(gate, curve[0][1], shares[0])
    for (step, loss), share in zip(curve[1:], shares[1:], strict=True):
        if reading.read(step, loss, share):
            return reading.best_step, reading
    last = curve[-1][0]
    return (0 if reading.teaches_nothing(last, check_interval) else last), reading


def _held_out_curve(graph, seed: int, params: dict) -> dict:
    """The start alone with the held-out rule kept from stopping: its held-out loss and
    rank share at every check up to ``pretrain_epochs``, and the lengths the rule and the
    loss's minimum would pick."""
    n_clusters = int(graph.y.max()) + 1
    with held_out_thresholds(START_EROSION=float("inf"), START_RANK_EROSION=float("inf")):
        fitted = SCGCStar(n_clusters, random_state=seed,
                          **{**params, "max_epochs": 0}).fit(graph)
    checks = held_out_rule.held_out_checks(fitted.history_)
    curve = [(entry["epoch"], entry["held_out_loss"]) for entry in checks]
    if not curve:  # too few edges to hold some out: the start ran its steps
        return {"held_out_loss": [], "held_out_rank": [], "length_by_rule": None,
                "length_at_minimum": None}
    # The length the rule as it is picks, read off the curve by the estimator's own
    # reading (both thresholds restored): the lowest loss's step once a check shows
    # erosion, else every step; 0 where the edges taught nothing.
    yardstick = cluster_code_fall(n_clusters, fitted.tau)
    gate = next(entry["gate"] for entry in fitted.history_ if "gate" in entry)
    ranks = [(entry["epoch"], entry["held_out_rank"]) for entry in checks]
    chosen, reading = rule_length(curve, gate, fitted.check_interval, ranks)
    return {"held_out_loss": [[step, round(loss, 6)] for step, loss in curve],
            "held_out_rank": [[step, round(share, 5)] for step, share in ranks],
            "length_by_rule": chosen,
            "length_at_minimum": min(curve, key=lambda point: point[1])[0],
            "fall_share": round(reading.fall / yardstick, 4),
            "gate": round(gate, 5), "cluster_code_fall": round(yardstick, 5)}


def _drift(graph, seed: int, params: dict) -> dict:
    """Refit with the loop's per-epoch scoring hook wrapped to score each partition too."""
    n, labels = graph.num_nodes, graph.y.numpy()
    k = int(labels.max()) + 1
    # R² reads the features as the fit does: the transform --params or main() names.
    x = FeatureTransform(params.get("features", "auto")).fit_graph(graph) \
        .transform(graph.x).to_sparse_csr()
    epochs = []

    def scored(truth, predicted):
        scores = evaluate(truth, predicted)
        epochs.append((predicted, [round(scores["acc"], 4), round(scores["nmi"], 4),
                                   round(modularity(graph.edge_index, predicted, n), 4),
                                   round(_between_share(x, torch.as_tensor(predicted), k), 5)]))
        return scores

    with patch.object(training_loop, "evaluate", scored):
        fitted = SCGCStar(k, random_state=seed, **params).fit(graph)
    # An untaught linear start skips the joint stage (air-traffic graphs): no epochs,
    # and the one partition to show is labels_.
    partitions = [predicted for predicted, _ in epochs] or [fitted.labels_]
    shown = sorted({*range(0, len(epochs), 10), len(epochs) - 1}) if epochs else []
    return {"labels_": rounded_scores(labels, fitted.labels_), "epochs": len(epochs),
            "epoch_acc_nmi_modularity_r2": [[i + 1, *epochs[i][1]] for i in shown],
            "sizes_first_last": [sorted(torch.bincount(torch.as_tensor(partitions[i]),
                                                       minlength=k).tolist())
                                 for i in (0, -1)]}


def _consensus(graph, group: int, restarts: int, params: dict) -> dict:
    labels = graph.y.numpy()
    k = int(labels.max()) + 1
    runs = [SCGCStar(k, random_state=group * restarts + r, **params).fit(graph).labels_
            for r in range(restarts)]
    agreement = [[evaluate(a, b)["ari"] for b in runs] for a in runs]
    medoid = max(range(restarts), key=lambda r: sum(agreement[r]))
    one_hot = torch.cat([F.one_hot(torch.as_tensor(run), k).float() for run in runs], 1)
    merged = kmeans(one_hot, k, generator=torch.Generator().manual_seed(group)).labels
    pairs = [agreement[a][b] for a in range(restarts) for b in range(a + 1, restarts)]
    return {"group": group, "runs": [rounded_scores(labels, run) for run in runs],
            "mean_pairwise_ari": round(sum(pairs) / len(pairs), 4),
            "consensus": rounded_scores(labels, merged.numpy()),
            "medoid": rounded_scores(labels, runs[medoid])}


def held_out_thresholds(**values: float):
    """The held-out rule's thresholds (``graphclust.starts.held_out_rule``'s constants,
    by name) set to ``values`` for the block, then restored."""
    return patch.multiple(held_out_rule, **values)


@contextmanager
def _whitening_keeping_mean():
    """The start's whitening with the map's mean put back: ``whiten_linear_`` centres
    (``b <- M (b - mean)``); adding ``M mean`` gives ``b <- M b``."""
    whiten = start_module.whiten_linear_

    def keeping_mean(linear, outputs, shrinkage):
        matrix = whiten(linear, outputs, shrinkage)
        with torch.no_grad():
            linear.bias += matrix @ outputs.mean(0).to(matrix.dtype)
        return matrix

    with patch.object(start_module, "whiten_linear_", keeping_mean):
        yield


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("probe", choices=("fit", "smooth", "drift", "consensus", "curve",
                                            "baselines"))
    parser.add_argument("--restarts", type=int, default=5,
                        help="consensus: fits merged per group (default 5)")
    parser.add_argument("dataset")
    parser.add_argument("--params", type=json.loads, default={},
                        help="SCGC* parameters as JSON (default: none, the defaults)")
    parser.add_argument("--subgraph", type=int, default=None, metavar="N",
                        help="probe the subgraph on N random nodes that bench_subgraphs "
                             "draws (a sparse graph nobody tuned on)")
    add_edge_options(parser)
    parser.add_argument("--whitening-keeps-mean", action="store_true",
                        help="the start's whitening equalises its map's directions but keeps "
                             "their mean (b <- M b instead of M (b - mean)): a probe")
    parser.add_argument("--loss-rule-only", action="store_true",
                        help="the start's held-out rule reads the loss alone, not the rank "
                             "share (the rule before notes part 10): a probe")
    args = parse(parser, argv, "benchmarks.explore.fits")
    dataset = TINY_DATASET if args.tiny else args.dataset
    if (dataset == "sbm" or dataset.startswith("table:")) and args.subgraph is not None:
        parser.error(f"--subgraph draws from a loaded data set, not from {dataset!r}")
    spec = dataset if args.subgraph is None else f"{dataset}:{args.subgraph}"
    graph = None if dataset == "sbm" else load_graph(spec, args.root)
    if args.subgraph is not None:
        dataset = f"{dataset}:{graph.num_nodes}"
    params = {**fit_params(args), **args.params}  # --params wins over --tiny's lengths
    for seed in range(args.seeds):
        if dataset == "sbm":
            graph = load_graph(dataset, args.root, sbm_seed=seed)
        edged, kind, edges = chosen_edges(graph, args)
        run_params = params if kind is None else {"features": kind, **params}
        with _whitening_keeping_mean() if args.whitening_keeps_mean else nullcontext(), \
                held_out_thresholds(START_RANK_EROSION=float("inf")) if args.loss_rule_only \
                else nullcontext():
            row = (_consensus(edged, seed, args.restarts, run_params)
                   if args.probe == "consensus" else probe(args.probe, edged, seed, run_params))
        # The baselines read only the transform of the parameters.
        shown = {"features": run_params.get("features", "auto")} \
            if args.probe == "baselines" else run_params
        extra = {**({"whitening_keeps_mean": True} if args.whitening_keeps_mean else {}),
                 **({"loss_rule_only": True} if args.loss_rule_only else {})}
        print(json.dumps({"dataset": dataset, "probe": args.probe, "params": shown,
                          "edges": edges, **extra, **row}), flush=True)


if __name__ == "__main__":
    main()
