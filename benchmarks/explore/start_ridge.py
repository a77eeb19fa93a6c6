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

``read``: per graph, the mean ACC / NMI, start length and penalty of each value, and the
change from ``default`` (seeds that both ran).
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import torch

from benchmarks._machine import fit_params, parse
from benchmarks.explore._graphs import load_graph
from benchmarks.explore._lines import json_lines, record_read_parser, recorded_dataset
from graphclust import SCGCStar, evaluate


def undirected_edges(edge_index: torch.Tensor) -> int:
    """Pairs {i, j}, i != j, joined by at least one entry of ``edge_index``."""
    pairs = edge_index[:, edge_index[0] != edge_index[1]]
    return int(torch.unique(torch.sort(pairs, dim=0).values, dim=1).shape[1])


def record_seed(graph, seed: int, per_edge: str, params: dict) -> dict:
    edges = undirected_edges(graph.edge_index)
    decay = None if per_edge == "default" else float(per_edge) / max(edges, 1)
    run = dict(params) if decay is None else {**params, "pretrain_weight_decay": decay}
    fitted = SCGCStar(int(graph.y.max()) + 1, random_state=seed, **run).fit(graph)
    scores = evaluate(graph.y.numpy(), fitted.labels_)
    return {"per_edge": per_edge, "edges": edges, "pretrain_weight_decay": decay,
            "seed": seed, "labels_": [round(scores["acc"], 4), round(scores["nmi"], 4)],
            "start_length": fitted.start_length_, "epochs": fitted.n_iter_}


def read(rows: list[dict]) -> str:
    runs = defaultdict(dict)
    for row in rows:
        runs[row["dataset"], row["per_edge"]][row["seed"]] = row
    lines = ["| graph | C | penalty | seeds | ACC / NMI | change from default | start steps |",
             "|---|---|---|---:|---|---|---:|"]
    for (dataset, per_edge), seeds in runs.items():
        scores = np.array([seeds[s]["labels_"] for s in sorted(seeds)])
        default = runs.get((dataset, "default"), {})
        shared = sorted(set(seeds) & set(default))
        change = "" if per_edge == "default" or not shared else "{:+.3f} / {:+.3f}".format(
            *np.mean([np.subtract(seeds[s]["labels_"], default[s]["labels_"])
                      for s in shared], axis=0))
        lengths = [seeds[s]["start_length"] for s in sorted(seeds)]
        length = "untaught" if all(v is None for v in lengths) else \
            f"{np.mean([v for v in lengths if v is not None]):.0f}"
        penalty = seeds[min(seeds)]["pretrain_weight_decay"]
        lines.append(f"| {dataset} | {per_edge} | "
                     f"{'1e-4' if penalty is None else f'{penalty:.5f}'} | {len(seeds)} | "
                     f"{scores[:, 0].mean():.3f} / {scores[:, 1].mean():.3f} | {change} | "
                     f"{length} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = record_read_parser(__doc__)
    parser.add_argument("--per-edge", nargs="+", default=["default", "10", "30"],
                        help="values C of the penalty C / E, or 'default' (default: "
                             "%(default)s)")
    args = parse(parser, argv, "benchmarks.explore.start_ridge")
    if args.action == "read":
        print(read(json_lines(args.inputs)))
        return
    spec = recorded_dataset(parser, args)
    for value in args.per_edge:
        if value != "default" and not float(value) >= 0:
            parser.error(f"--per-edge takes 'default' or values >= 0, got {value!r}")
    graph = load_graph(spec, args.root)
    for value in args.per_edge:
        for seed in range(args.seeds):
            row = record_seed(graph, seed, value, fit_params(args))
            print(json.dumps({"dataset": spec, **row}), flush=True)


if __name__ == "__main__":
    main()
