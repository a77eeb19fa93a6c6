"""The joint stage's stopping rule, replayed: what each window and ``tol`` would have kept.

    python -m benchmarks.explore.stopping record DATASET --seeds 3 [--subgraph N] > runs.jsonl
    python -m benchmarks.explore.stopping replay runs.jsonl [--rules 10:0.005 10:0.01 ...]
    python -m benchmarks.explore.stopping sizes runs.jsonl

``record``: SCGC* with its defaults (updated by ``--params``) and ``tol=0``, so that the
joint stage runs all ``max_epochs`` epochs; per epoch the partition the loop trained from
is scored (ACC / NMI, labels read only to score) and timed, and for each window w of
:data:`WINDOWS` the number of nodes whose cluster differs from w epochs before (the
stopping rule's signal at that window; at epoch w, from the start's k-means labels). One
JSON line per seed, with the seconds of the start, of each epoch and after the last, the
start's cluster sizes (soft: its Student-t assignments summed; hard: its k-means labels)
and ``labels_``' sizes, the share of the largest class that the largest cluster holds in
the start's k-means labels and in ``labels_``, and the scores of ``labels_`` after the
last epoch. The fits run on the estimator's ``n_jobs`` threads: one by default, two in
``quality.md``'s fits (``graphclust bench`` passes ``n_jobs=-1``), whose partitions the
replay reproduces.

``--size-prior`` records with another pull on cluster sizes in the joint stage's target
(:data:`SIZE_PRIOR_PROBES`). ``--init`` records with the linear start's map begun
elsewhere: any value of ``explore.start_ridge``'s ``--init`` (e.g. ``clusters``, the
first n_clusters outputs at the features' principal directions and the rest random).

``replay``: for each rule ``w:tol`` the epoch at which it stops (the first whose w-epoch
change is under tol, as :func:`graphclust.training.train_clusterer` reads it) and the
partition it would return: the next epoch's, which the loop reads from the same weights
(``labels_`` after the last). Means over the seeds of each graph: epochs, the fit's
seconds (the start's, the epochs run and what follows the last), ACC and NMI. The
stopped partition is exact for a fit whose stop is the only change: the epochs before it
are the same epochs.

``sizes``: per seed, the ACC of the joint stage's first and last partitions beside the
largest and smallest cluster of each (the line's hard sizes: the start's k-means labels,
``labels_``), the graph's largest and smallest class and the share of the largest class
that the largest cluster holds (lines recorded since it was kept), to see what a climb
does to the sizes.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack, nullcontext
from unittest.mock import patch

import numpy as np
import torch

import graphclust.training.loop as training_loop
from benchmarks._machine import TINY_DATASET, fit_params, parse, script_parser
from benchmarks.explore._graphs import load_graph
from benchmarks.explore.start_ridge import INIT_NAMES, start_changed
from graphclust import SCGCStar, evaluate
from graphclust.nn.heads import StudentTHead
from graphclust.objectives import composed
from graphclust.objectives.clustering import target_distribution

#: Windows whose change ``record`` keeps (the default, ``check_interval=10``, among them).
WINDOWS = (5, 10, 20)
#: Rules ``replay`` reads by default: the default rule, looser ones, and shorter windows.
DEFAULT_RULES = ("10:0.005", "10:0.01", "10:0.02", "5:0.005", "5:0.01", "20:0.01")


#: ``--size-prior``: the joint stage's pull on cluster sizes, probed against the default
#: (``start``: DEC's target times the start's soft cluster sizes).
#: ``hold``: the target q² times the start's hard (k-means) cluster sizes over the
#: current ones, which holds the hard sizes where the start put them; ``hard``: DEC's
#: target times the start's hard sizes; ``none``: the target q² (no pull on sizes).
SIZE_PRIOR_PROBES = ("start", "hold", "hard", "none")


def _hard_sizes(q: torch.Tensor) -> torch.Tensor:
    return torch.bincount(q.argmax(1), minlength=q.shape[1]).float().clamp_min(1)


def _size_prior(name: str):
    """The patch that gives the joint stage the size prior ``name`` (a no-op for
    ``start``, the default)."""
    if name == "start":
        return nullcontext()

    def prior(self, q_start):
        return _hard_sizes(q_start)

    def target(self, q, prior):
        flat = torch.ones(q.shape[1], dtype=q.dtype)
        if name == "none":
            return target_distribution(q, cluster_frequency=flat)
        return target_distribution(q, cluster_frequency=flat,
                                   size_prior=prior / _hard_sizes(q))  # hold

    stack = ExitStack()
    stack.enter_context(patch.object(composed.SelfTraining, "prior", prior))
    if name != "hard":  # hard keeps DEC's target, with the hard sizes as its prior
        stack.enter_context(patch.object(composed.SelfTraining, "target", target))
    return stack


def _rounded(scores: dict) -> list[float]:
    return [round(scores["acc"], 4), round(scores["nmi"], 4)]


def record(graph, seed: int, params: dict, size_prior: str = "start",
           init: str | None = None) -> dict:
    labels = graph.y.numpy()
    k = int(labels.max()) + 1
    partitions, scores, stamps, start, soft_sizes = [], [], [], [], []
    place_centres = StudentTHead.start_from

    def placed(head, *args, **kwargs):  # the start's k-means labels: the loop's first window
        found = place_centres(head, *args, **kwargs)
        start.append(np.asarray(found.cpu()))
        stamps.append(time.perf_counter())  # the joint stage begins
        return found

    def scored(truth, predicted):
        stamps.append(time.perf_counter())
        partitions.append(np.asarray(predicted))
        result = evaluate(truth, predicted)
        scores.append(_rounded(result))
        return result

    started = time.perf_counter()
    with patch.object(training_loop, "evaluate", scored), \
            patch.object(StudentTHead, "start_from", placed), _size_prior(size_prior), \
            (nullcontext() if init is None else start_changed(None, None, init, labels)):
        size_prior_of = composed.SelfTraining.prior

        def prior(term, q_start):  # the start's soft cluster sizes, beside its hard ones
            soft_sizes.append(q_start.sum(0))
            return size_prior_of(term, q_start)

        with patch.object(composed.SelfTraining, "prior", prior):
            fitted = SCGCStar(k, random_state=seed, **{**params, "tol": 0.0}).fit(graph)
    finished = time.perf_counter()
    # Epoch e's partition against epoch e - w's, the start's labels standing for epoch 0:
    # the count of nodes whose cluster changed (the loop reads it as a float32 share).
    labelled = start[-1:] + partitions
    changed = {str(w): [int((labelled[e] != labelled[e - w]).sum()) if e >= w else None
                        for e in range(1, len(labelled))]
               for w in WINDOWS}
    return {"seed": seed, "nodes": graph.num_nodes, "epochs": len(partitions),
            # Seconds: the start and k-means up to the joint stage; each epoch, its steps
            # and the scoring pass that ends it; after the last epoch, labels_ and the rest.
            "start_s": round((stamps[0] if stamps else finished) - started, 2),
            "epoch_s": [round(b - a, 3) for a, b in zip(stamps, stamps[1:], strict=False)],
            "end_s": round(finished - (stamps[-1] if stamps else finished), 2),
            "scores": scores, "changed": changed,
            "sizes": {"start_soft": sorted(round(float(v)) for v in soft_sizes[-1])
                      if soft_sizes else None,
                      "start": _sorted_sizes(start[-1], k) if start else None,
                      "labels_": _sorted_sizes(fitted.labels_, k)},
            # How much of the largest class the largest cluster holds (labels read to score).
            "largest_class_in_largest_cluster": {
                "start": _largest_class_share(start[-1], labels) if start else None,
                "labels_": _largest_class_share(fitted.labels_, labels)},
            "labels_": _rounded(evaluate(labels, fitted.labels_))}


def _sorted_sizes(partition, k: int) -> list[int]:
    return sorted(np.bincount(np.asarray(partition), minlength=k).tolist())


def _largest_class_share(partition, labels: np.ndarray) -> float:
    """The share of the largest class's nodes that lie in the largest cluster (on a tie of
    sizes, the lowest index of each)."""
    partition = np.asarray(partition)
    in_class = labels == np.bincount(labels).argmax()
    in_cluster = partition == np.bincount(partition).argmax()
    return round(float((in_class & in_cluster).sum() / in_class.sum()), 4)


def stop(run: dict, window: int, tol: float) -> tuple[int, list[float]]:
    """Epochs run and (ACC, NMI) of the partition the rule ``window:tol`` returns."""
    # Entry i is epoch i + 1's change over the window (at epoch w against the start's
    # k-means labels), compared as the loop compares it: a float32 share of the nodes, so
    # that exactly tol of them changing (10 of 2,000 nodes at 0.005) stops it.
    nodes = np.float32(run["nodes"])
    for index, count in enumerate(run["changed"][str(window)]):
        if count is not None and float(np.float32(count) / nodes) < tol:
            epochs = index + 1
            following = run["scores"][epochs] if epochs < run["epochs"] else run["labels_"]
            return epochs, following
    return run["epochs"], run["labels_"]


def _runs(path: str, seeds: int | None) -> dict[str, list[dict]]:
    """``record``'s lines by graph and parameters (seeds 0 to ``seeds`` - 1, or all)."""
    runs: dict[str, list[dict]] = {}
    with open(path) as lines:
        for line in lines:
            row = json.loads(line)
            if seeds is not None and row["seed"] >= seeds:
                continue
            params = row["params"]
            name = row["dataset"] + (f" {json.dumps(params)}" if params else "")
            runs.setdefault(name, []).append(row)
    return runs


def sizes(path: str, root: str, seeds: int | None = None) -> None:
    """Per seed: ACC of the start's partition (the joint stage's first epoch) and of
    ``labels_`` after the last epoch, beside the largest and smallest cluster of each, the
    graph's largest and smallest class (its labels read from ``root`` to count) and the
    share of that class in each largest cluster (empty for lines recorded before it)."""
    print("| graph | seed | ACC, first epoch -> last | largest cluster | smallest cluster | "
          "largest, smallest class | share of the largest class in the largest cluster |")
    print("|---|---:|---|---|---|---|---|")
    classes = {}  # each graph's class sizes, loaded once
    for dataset, rows in _runs(path, seeds).items():
        spec = rows[0]["dataset"]
        if spec not in classes:
            classes[spec] = np.bincount(load_graph(spec, root).y.numpy())
        counts = classes[spec]
        for row in rows:
            start, end = row["sizes"]["start"], row["sizes"]["labels_"]
            if start is None or not row["scores"]:  # max_epochs=0, or an untaught start
                print(f"| {dataset} | {row['seed']} | no joint stage | | | | |")
                continue
            print(f"| {dataset} | {row['seed']} | {row['scores'][0][0]:.3f} -> "
                  f"{row['labels_'][0]:.3f} | {start[-1]} -> {end[-1]} | "
                  f"{start[0]} -> {end[0]} | {counts.max()}, {counts.min()} | "
                  f"{_shares(row)} |")


def _shares(row: dict) -> str:
    """``record``'s largest-class shares, first -> last ("" in lines recorded before it
    kept them)."""
    shares = row.get("largest_class_in_largest_cluster")
    return "" if shares is None else f"{shares['start']:.2f} -> {shares['labels_']:.2f}"


def replay(path: str, rules: list[str], seeds: int | None = None) -> None:
    runs = _runs(path, seeds)
    print("| graph (seeds) | rule w:tol | epochs | fit s | ACC | NMI |")
    print("|---|---|---:|---:|---:|---:|")
    for dataset, rows in runs.items():
        for rule in rules:
            window, tol = rule.split(":")
            stops = [stop(row, int(window), float(tol)) for row in rows]
            seconds = [row["start_s"] + sum(row["epoch_s"][:epochs]) + row["end_s"]
                       for row, (epochs, _) in zip(rows, stops, strict=True)]
            print(f"| {dataset} ({len(rows)}) | {rule} | "
                  f"{np.mean([e for e, _ in stops]):.0f} | {np.mean(seconds):.0f} | "
                  f"{np.mean([s[0] for _, s in stops]):.4f} | "
                  f"{np.mean([s[1] for _, s in stops]):.4f} |")


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=3)
    parser.add_argument("probe", choices=("record", "replay", "sizes"))
    parser.add_argument("dataset", help="record: the graph (explore's specs); "
                                        "replay, sizes: a file of record's lines")
    parser.add_argument("--params", type=json.loads, default={},
                        help="SCGC* parameters as JSON (default: none, the defaults)")
    parser.add_argument("--subgraph", type=int, default=None, metavar="N",
                        help="record on bench_subgraphs' subgraph of N random nodes")
    parser.add_argument("--size-prior", choices=SIZE_PRIOR_PROBES, default="start",
                        help="record: the joint stage's size prior (default: start, as "
                             "shipped; the others are probes, SIZE_PRIOR_PROBES)")
    parser.add_argument("--init", choices=list(INIT_NAMES), default=None,
                        help="record: where the linear start's map begins (explore."
                             "start_ridge's --init; default: the estimator's)")
    parser.add_argument("--first-seeds", type=int, default=None, metavar="K",
                        help="replay, sizes: read only seeds 0 to K - 1 (default: every "
                             "seed)")
    parser.add_argument("--rules", nargs="+", default=list(DEFAULT_RULES),
                        help="replay: rules as window:tol (default %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.stopping")
    if args.probe == "replay":
        replay(args.dataset, args.rules, args.first_seeds)
        return
    if args.probe == "sizes":
        sizes(args.dataset, args.root, args.first_seeds)
        return
    dataset = TINY_DATASET if args.tiny else args.dataset
    spec = dataset if args.subgraph is None else f"{dataset}:{args.subgraph}"
    graph = load_graph(spec, args.root)
    params = {**fit_params(args), **args.params}
    shown = {**params, **({} if args.size_prior == "start" else {"prior": args.size_prior}),
             **({} if args.init is None else {"init": args.init})}
    for seed in range(args.seeds):
        print(json.dumps({"dataset": spec, "params": shown,
                          **record(graph, seed, params, args.size_prior, args.init)}),
              flush=True)


if __name__ == "__main__":
    main()
