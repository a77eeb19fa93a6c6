"""The linear start's ridge scaled by the graph's edges: what it does where edges are few.

    python -m benchmarks.explore.start_ridge record DATASET --per-edge default 10 30 > runs.jsonl
    python -m benchmarks.explore.start_ridge read runs.jsonl [more.jsonl ...]

``record``: SCGC* with its defaults but the start's L2 penalty (``pretrain_weight_decay``,
Adam's coupled weight decay on the linear map; default 1e-4) set to C / E for each C of
``--per-edge``, E the graph's undirected edges (self-loops left out); ``default`` keeps
the estimator's own. The linear map has (features x 32) weights fitted to E edges: a
penalty that grows as the edges get fewer is the ridge of a regression with fewer
samples. Per seed and value one JSON line: ACC / NMI of ``labels_`` (labels read only to
score), the start's length (the held-out rule's choice) and the joint-stage epochs.

``--pull initial``: the penalty pulls the map towards its initial weights (L2-SP, Li et
al. 2018: (C / E) / 2 times the squared distance, added to the start's loss) instead of
towards zero, beside the default weight decay. ``--start-check-interval N``: the start's
held-out rule checks every N steps (the joint stage's window stays ``check_interval``).

``read``: per graph, the mean ACC / NMI, start length and penalty of each variant, and the
change from the defaults (``default`` with neither option; seeds that both ran).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from contextlib import ExitStack
from unittest.mock import patch

import numpy as np
import torch

import graphclust.starts.contrastive as start_module
from benchmarks._machine import fit_params, parse
from benchmarks.explore._graphs import load_graph
from benchmarks.explore._lines import json_lines, record_read_parser, recorded_dataset
from benchmarks.explore.fits import rounded_scores
from graphclust import SCGCStar
from graphclust.estimators.contrastive import ContrastiveClusterer

PULLS = ("zero", "initial")


def undirected_edges(edge_index: torch.Tensor) -> int:
    """Pairs {i, j}, i != j, joined by at least one entry of ``edge_index``."""
    pairs = edge_index[:, edge_index[0] != edge_index[1]]
    return int(torch.unique(torch.sort(pairs, dim=0).values, dim=1).shape[1])


def _pull_to_initial(strength: float):
    """The start's steps with ``strength / 2`` times the squared distance of its module's
    weights from where they began added to the loss (the initial weights are read at the
    module's first step)."""
    original = start_module.optimizer_step
    initial = {}

    def step(module, optimizer, loss):
        start = initial.setdefault(id(module), [p.detach().clone() for p in module.parameters()])
        distance = sum((p - p0).pow(2).sum() for p, p0 in zip(module.parameters(), start,
                                                               strict=True))
        return original(module, optimizer, loss + 0.5 * strength * distance)

    return patch.object(start_module, "optimizer_step", step)


def _start_checks(interval: int):
    """The start's held-out checks every ``interval`` steps."""
    original = ContrastiveClusterer._start_part

    def start_part(self, *args, **kwargs):
        return dataclasses.replace(original(self, *args, **kwargs), check_interval=interval)

    return patch.object(ContrastiveClusterer, "_start_part", start_part)


def record_seed(graph, seed: int, per_edge: str, params: dict, pull: str = "zero",
                start_check_interval: int | None = None) -> dict:
    edges = undirected_edges(graph.edge_index)
    strength = None if per_edge == "default" else float(per_edge) / max(edges, 1)
    run = dict(params)
    with ExitStack() as stack:
        if strength is not None and pull == "zero":
            run["pretrain_weight_decay"] = strength
        elif strength is not None:
            stack.enter_context(_pull_to_initial(strength))
        if start_check_interval is not None:
            stack.enter_context(_start_checks(start_check_interval))
        fitted = SCGCStar(int(graph.y.max()) + 1, random_state=seed, **run).fit(graph)
    variant = ", ".join([per_edge] + (["pull to the initial map"] if pull == "initial" else [])
                        + ([f"checks every {start_check_interval}"]
                           if start_check_interval is not None else []))
    return {"per_edge": per_edge, "variant": variant, "edges": edges,
            "pretrain_weight_decay": strength if pull == "zero" else None,
            "pull_strength": strength if pull == "initial" else None,
            "seed": seed, "labels_": rounded_scores(graph.y.numpy(), fitted.labels_),
            "start_length": fitted.start_length_, "epochs": fitted.n_iter_}


def read(rows: list[dict]) -> str:
    runs = defaultdict(dict)
    for row in rows:
        runs[row["dataset"], row["variant"]][row["seed"]] = row
    lines = ["| graph | C, variant | penalty | seeds | ACC / NMI | change from default | "
             "start steps |", "|---|---|---|---:|---|---|---:|"]
    for (dataset, variant), seeds in runs.items():
        scores = np.array([seeds[s]["labels_"] for s in sorted(seeds)])
        default = runs.get((dataset, "default"), {})
        shared = sorted(set(seeds) & set(default))
        change = "" if variant == "default" or not shared else "{:+.3f} / {:+.3f}".format(
            *np.mean([np.subtract(seeds[s]["labels_"], default[s]["labels_"])
                      for s in shared], axis=0))
        lengths = [seeds[s]["start_length"] for s in sorted(seeds)]
        length = "untaught" if all(v is None for v in lengths) else \
            f"{np.mean([v for v in lengths if v is not None]):.0f}"
        first = seeds[min(seeds)]
        penalty = first["pull_strength"] if first["pretrain_weight_decay"] is None \
            else first["pretrain_weight_decay"]
        lines.append(f"| {dataset} | {variant} | "
                     f"{'1e-4' if penalty is None else f'{penalty:.5f}'} | {len(seeds)} | "
                     f"{scores[:, 0].mean():.3f} / {scores[:, 1].mean():.3f} | {change} | "
                     f"{length} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = record_read_parser(__doc__)
    parser.add_argument("--per-edge", nargs="+", default=["default", "10", "30"],
                        help="values C of the penalty C / E, or 'default' (default: "
                             "%(default)s)")
    parser.add_argument("--pull", choices=PULLS, default="zero",
                        help="where the penalty pulls the map: zero (weight decay; the "
                             "default) or its initial weights")
    parser.add_argument("--start-check-interval", type=int, default=None, metavar="N",
                        help="the start's held-out checks every N steps (default: the "
                             "estimator's check_interval)")
    args = parse(parser, argv, "benchmarks.explore.start_ridge")
    if args.action == "read":
        print(read(json_lines(args.inputs)))
        return
    spec = recorded_dataset(parser, args)
    if args.start_check_interval is not None and args.start_check_interval < 1:
        parser.error("--start-check-interval takes a count of steps >= 1")
    for value in args.per_edge:
        if value != "default" and not float(value) >= 0:
            parser.error(f"--per-edge takes 'default' or values >= 0, got {value!r}")
    graph = load_graph(spec, args.root)
    for value in args.per_edge:
        for seed in range(args.seeds):
            row = record_seed(graph, seed, value, fit_params(args), args.pull,
                              args.start_check_interval)
            print(json.dumps({"dataset": spec, **row}), flush=True)


if __name__ == "__main__":
    main()
