"""The linear start's ridge scaled by the graph's edges, and its map held to the features'
strongest directions: what each does where edges are few.

    python -m benchmarks.explore.start_ridge record DATASET --per-edge default 10 30 > runs.jsonl
    python -m benchmarks.explore.start_ridge record DATASET --per-edge default --rank 32 128
    python -m benchmarks.explore.start_ridge read runs.jsonl [more.jsonl ...]

``record``: SCGC* with its defaults but the start's L2 penalty (``pretrain_weight_decay``,
Adam's coupled weight decay on the linear map; default 1e-4) set to C / E for each C of
``--per-edge``, E the graph's undirected edges (self-loops left out); ``default`` keeps
the estimator's own. The linear map has (features x 32) weights fitted to E edges: a
penalty that grows as the edges get fewer is the ridge of a regression with fewer
samples. Per seed and value one JSON line: ACC / NMI of ``labels_`` (labels read only to
score, but by ``clusters-no-split`` and ``clusters-between``), the start's length (the
held-out rule's choice), the held-out loss and rank share at the check it kept, its gate
and every check's held-out loss, and the joint-stage epochs.

``--pull initial``: the penalty pulls the map towards its initial weights (L2-SP, Li et
al. 2018: (C / E) / 2 times the squared distance, added to the start's loss) instead of
towards zero, beside the default weight decay. ``--start-check-interval N``: the start's
held-out rule checks every N steps (the joint stage's window stays ``check_interval``).
``--rank M`` (one variant for each M given, at each C): the map is trained on the
coordinates of the features along their top M principal directions (``svd-kmeans``'
projection, :func:`graphclust.data.principal.principal_directions`), an (M x 32) map, and
grown into the encoder as that map times the directions: a map that cannot leave the
features' M strongest directions, whatever the width of the features. ``--init
principal``: the map begins at the features' top principal directions (the map an untaught
start keeps; ``LinearStart(init="principal")``) instead of random weights; ``--init
clusters``: only its first n_clusters outputs do, the others keep random weights
(:class:`ClusterDirectionsStart`); two controls of it: ``clusters-shrunk``, the same
directions at the mean norm of the random outputs' weights, and ``orthonormal``, as many
random orthonormal directions of norm 1 as clusters; ``clusters-mixed``: those outputs'
random weights plus the shrunk directions, a start that keeps its random part;
``clusters-no-split``, a control that reads the labels: the top principal directions less
those along which mostly the largest class varies (more than :data:`SPLIT_SHARE` of the
variance within it); ``clusters-agreeing``: the n_clusters of the top 32 along which
linked nodes agree most (edge agreement over every edge, the held-out ones included), and
a choice that reads the labels, ``clusters-between``: the n_clusters most between the
classes (:mod:`benchmarks.explore._directions`).

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
from torch import nn

import graphclust.starts.contrastive as start_module
from benchmarks._machine import fit_params, parse
from benchmarks.explore._directions import (
    between_class_share,
    coordinates_along,
    edge_agreement,
    largest_class_share,
)
from benchmarks.explore._graphs import load_graph
from benchmarks.explore._lines import (
    checks_line,
    json_lines,
    kept_held_out,
    record_read_parser,
    recorded_dataset,
)
from benchmarks.explore.fits import rounded_scores
from graphclust import SCGCStar
from graphclust.data.principal import principal_directions
from graphclust.estimators.contrastive import ContrastiveClusterer
from graphclust.nn.mlp import MLP
from graphclust.nn.sparse_rows import sparse_rows_linear

PULLS = ("zero", "initial")
#: ``--init``'s probes of this script (ClusterDirectionsStart's ``first_outputs``): what
#: the map's first n_clusters outputs begin at, the others keeping their random weights.
CLUSTER_DIRECTIONS, SHRUNK, ORTHONORMAL = "clusters", "clusters-shrunk", "orthonormal"
MIXED, NO_SPLIT = "clusters-mixed", "clusters-no-split"
AGREEING, BETWEEN = "clusters-agreeing", "clusters-between"
FIRST_OUTPUTS = {
    CLUSTER_DIRECTIONS: "principal directions for the clusters, the rest random",
    SHRUNK: "principal directions for the clusters at the random outputs' norm, "
            "the rest random",
    ORTHONORMAL: "random orthonormal directions for the clusters, the rest random",
    MIXED: "random weights plus principal directions at their norm for the clusters, "
           "the rest random",
    NO_SPLIT: "principal directions for the clusters but those within the largest class "
              "(labels read), the rest random",
    AGREEING: "principal directions along which linked nodes agree most for the clusters, "
              "the rest random",
    BETWEEN: "principal directions most between the classes for the clusters (labels "
             "read), the rest random"}
#: The controls that choose among the principal directions, and which of them read labels.
CHOSEN_DIRECTIONS, READ_LABELS = (NO_SPLIT, AGREEING, BETWEEN), (NO_SPLIT, BETWEEN)
#: ``clusters-no-split`` passes over a principal direction when more than this share of
#: its variance lies within the graph's largest class (about that class's own mean): a
#: direction along which that class varies and the others hardly do.
SPLIT_SHARE = 0.5
#: ``--init``'s values: LinearStart's own, and this script's.
INIT_NAMES = {"random": "random weights", "principal": "principal directions",
              **FIRST_OUTPUTS}


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


@dataclasses.dataclass(frozen=True)
class PrincipalLinearStart(start_module.LinearStart):
    """:class:`~graphclust.starts.contrastive.LinearStart` on the features' coordinates
    along their top ``rank`` principal directions; the (rank x embedding) map it trains
    is grown as that map times the directions, a (features x embedding) map."""

    rank: int = 32
    # The directions of the fit under way, read by _finish (the dataclass is frozen).
    fitted: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def _trained_module(self, encoder: nn.Module, run):
        x = run.inputs.x
        directions = principal_directions(x, self.rank, run.seed)
        self.fitted["directions"] = directions
        with torch.no_grad():  # dense or CSR rows alike
            coordinates = sparse_rows_linear(x, directions, None)
        linear = MLP([len(directions), run.embedding_dim]).to(x.device)
        return linear, dataclasses.replace(run.inputs, x=coordinates, edge_index=None,
                                           csr=None, fanouts=[])

    def _finish(self, trained, inputs, config, whiten: bool = True) -> nn.Module:
        return super()._finish(trained, inputs, _GrownThrough(config,
                                                              self.fitted["directions"]),
                               whiten)


@dataclasses.dataclass(frozen=True)
class ClusterDirectionsStart(start_module.LinearStart):
    """:class:`~graphclust.starts.contrastive.LinearStart` whose map's first
    ``n_clusters`` outputs begin at the features' top principal directions and whose
    other outputs keep their random weights (no bias): the directions k-means needs for
    that many clusters, and room beside them. ``first_outputs`` (a key of
    :data:`FIRST_OUTPUTS`) also gives the two controls: the same directions shrunk to the
    mean norm of the random outputs' weights, or random orthonormal directions; and a
    blend: each of those outputs' random weights plus its shrunk direction, which keeps a
    random part beside the direction (random rows are nearly orthogonal to any fixed
    direction in many features, so the two parts are of about equal weight). Three choose
    among the top principal directions (:meth:`_chosen`); two of them read ``labels``
    (one per row of the features)."""

    first_outputs: str = CLUSTER_DIRECTIONS
    labels: object = dataclasses.field(default=None, compare=False, repr=False)

    def check(self, config, embedding_dim: int) -> None:
        super().check(config, embedding_dim)
        if self.first_outputs not in FIRST_OUTPUTS:
            raise ValueError(f"first_outputs must be one of {', '.join(FIRST_OUTPUTS)}, got "
                             f"{self.first_outputs!r}")

    def _trained_module(self, encoder: nn.Module, run):
        linear, inputs = super()._trained_module(encoder, run)
        layer = linear.layers[0]
        n_clusters = run.n_clusters
        if self.first_outputs == ORTHONORMAL:
            # min(outputs, features) directions, as many as principal_directions gives
            # where the rows outnumber the features, so that the refusal reads the same.
            generator = torch.Generator().manual_seed(run.seed)
            gaussian = torch.randn(layer.in_features, min(layer.weight.shape),
                                   generator=generator)
            directions = torch.linalg.qr(gaussian).Q.T  # orthonormal rows
        else:
            directions = principal_directions(inputs.x, layer.out_features, run.seed)
        if self.first_outputs in CHOSEN_DIRECTIONS:
            directions = self._chosen(directions, inputs.x, run.edge_index)
        if n_clusters >= len(directions):
            raise ValueError(f"init {self.first_outputs!r} needs fewer clusters ({n_clusters}) "
                             f"than directions ({len(directions)}): with as many, no output "
                             "keeps its random weights")
        with torch.no_grad():
            directions = directions[:n_clusters].to(layer.weight)
            if self.first_outputs in (SHRUNK, MIXED):
                directions = directions * layer.weight[n_clusters:].norm(dim=1).mean()
            if self.first_outputs == MIXED:
                directions = directions + layer.weight[:n_clusters]
            layer.weight[:n_clusters] = directions
            layer.bias.zero_()
        return linear, inputs

    def _chosen(self, directions: torch.Tensor, x, edge_index: torch.Tensor) -> torch.Tensor:
        """``directions`` less those within the largest class (``clusters-no-split``), or
        sorted by edge agreement or by between-class share, the most first."""
        if self.first_outputs in READ_LABELS and (self.labels is None
                                                  or len(self.labels) != x.shape[0]):
            raise ValueError(f"init {self.first_outputs!r} reads one label per node")
        coordinates = coordinates_along(x, directions)
        if self.first_outputs == NO_SPLIT:
            shares = largest_class_share(coordinates, np.asarray(self.labels))
            return directions[torch.from_numpy(shares <= SPLIT_SHARE)]
        if self.first_outputs == AGREEING:
            scores = edge_agreement(coordinates, edge_index.cpu().numpy())
        else:
            scores = between_class_share(coordinates, np.asarray(self.labels))
        return directions[torch.from_numpy(np.argsort(-scores, kind="stable").copy())]


@dataclasses.dataclass(frozen=True)
class _GrownThrough:
    """An encoder configuration whose ``from_linear`` first composes the map with
    ``directions`` (a map of their coordinates becomes a map of the features)."""

    config: object
    directions: torch.Tensor

    def from_linear(self, layer: nn.Linear) -> nn.Module:
        full = nn.Linear(self.directions.shape[1], layer.out_features).to(layer.weight.device)
        with torch.no_grad():
            full.weight.copy_(layer.weight @ self.directions.to(layer.weight.device))
            full.bias.copy_(layer.bias)
        return self.config.from_linear(full)


def start_changed(interval: int | None, rank: int | None, init: str | None, labels=None):
    """The start's held-out checks every ``interval`` steps, its map on the top ``rank``
    principal directions (:class:`PrincipalLinearStart`) and where its map begins
    (``LinearStart.init``); ``None`` leaves each as the estimator has it. ``labels``: the
    graph's, handed on only to the ``init`` values that read them (:data:`READ_LABELS`)."""
    if init is not None and rank is not None:
        raise ValueError("init sets where a map of the features begins; a rank's map "
                         "begins at random weights")
    original = ContrastiveClusterer._start_part

    def start_part(self, *args, **kwargs):
        start = original(self, *args, **kwargs)
        if interval is not None:
            start = dataclasses.replace(start, check_interval=interval)
        fields = {f.name: getattr(start, f.name) for f in dataclasses.fields(start)}
        if rank is not None:
            start = PrincipalLinearStart(**{**fields, "init": "random"}, rank=rank)
        elif init in FIRST_OUTPUTS:
            start = ClusterDirectionsStart(
                **{**fields, "init": "random"}, first_outputs=init,
                labels=labels if init in READ_LABELS else None)
        elif init is not None:
            start = dataclasses.replace(start, init=init)
        return start

    return patch.object(ContrastiveClusterer, "_start_part", start_part)


def record_seed(graph, seed: int, per_edge: str, params: dict, pull: str = "zero",
                start_check_interval: int | None = None, rank: int | None = None,
                init: str | None = None) -> dict:
    edges = undirected_edges(graph.edge_index)
    strength = None if per_edge == "default" else float(per_edge) / max(edges, 1)
    run = dict(params)
    with ExitStack() as stack:
        if strength is not None and pull == "zero":
            run["pretrain_weight_decay"] = strength
        elif strength is not None:
            stack.enter_context(_pull_to_initial(strength))
        if start_check_interval is not None or rank is not None or init is not None:
            stack.enter_context(start_changed(start_check_interval, rank, init,
                                              graph.y.numpy()))
        fitted = SCGCStar(int(graph.y.max()) + 1, random_state=seed, **run).fit(graph)
    variant = ", ".join([per_edge] + (["pull to the initial map"] if pull == "initial" else [])
                        + ([f"checks every {start_check_interval}"]
                           if start_check_interval is not None else [])
                        + ([f"top {rank} principal directions"] if rank is not None else [])
                        + ([f"begun at the {INIT_NAMES[init]}"] if init is not None else []))
    return {"per_edge": per_edge, "variant": variant, "edges": edges,
            "pretrain_weight_decay": strength if pull == "zero" else None,
            "pull_strength": strength if pull == "initial" else None,
            "rank": rank, "init": init, "seed": seed,
            "labels_": rounded_scores(graph.y.numpy(), fitted.labels_),
            "start_length": fitted.start_length_, "epochs": fitted.n_iter_,
            "start_held_out": kept_held_out(fitted.history_),
            "start_checks": checks_line(fitted.history_)}


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
    parser.add_argument("--rank", type=int, nargs="+", default=None, metavar="M",
                        help="a variant for each M: the start's map on the features' top M "
                             "principal directions (default: on the features)")
    parser.add_argument("--params", type=json.loads, default={},
                        help="estimator parameters beside the variant's, as JSON (e.g. "
                             "'{\"max_epochs\": 0}' for the start alone)")
    parser.add_argument("--first-seed", type=int, default=0, metavar="S",
                        help="the seeds are S, S + 1, ... (default: 0)")
    parser.add_argument("--init", choices=list(INIT_NAMES), default=None,
                        help="where the start's map begins: LinearStart's init (random "
                             "weights, or the features' principal directions), or "
                             f"{CLUSTER_DIRECTIONS!r} (n_clusters principal directions, the "
                             "other outputs random), its controls, clusters-shrunk and "
                             "orthonormal, clusters-mixed (random plus the directions), "
                             "clusters-no-split (less the directions within the largest "
                             "class; reads the labels), clusters-agreeing (the directions "
                             "linked nodes agree along most) and clusters-between (those "
                             "most between the classes; reads the labels) (default: the "
                             "estimator's)")
    args = parse(parser, argv, "benchmarks.explore.start_ridge")
    if args.action == "read":
        print(read(json_lines(args.inputs)))
        return
    spec = recorded_dataset(parser, args)
    if args.start_check_interval is not None and args.start_check_interval < 1:
        parser.error("--start-check-interval takes a count of steps >= 1")
    if args.first_seed < 0:
        parser.error("--first-seed takes a seed >= 0")
    if args.rank is not None and min(args.rank) < 1:
        parser.error("--rank takes counts of directions >= 1")
    if args.rank is not None and args.init is not None:
        parser.error("--init sets where a map of the features begins; --rank's map "
                     "begins at random weights")
    for value in args.per_edge:
        if value != "default" and not float(value) >= 0:
            parser.error(f"--per-edge takes 'default' or values >= 0, got {value!r}")
    graph = load_graph(spec, args.root)
    if args.rank is not None and max(args.rank) > graph.x.shape[1]:
        parser.error(f"--rank: {spec} has {graph.x.shape[1]} features, fewer than "
                     f"{max(args.rank)} directions")
    for value in args.per_edge:
        for rank in args.rank or [None]:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                row = record_seed(graph, seed, value, {**args.params, **fit_params(args)},
                                  args.pull, args.start_check_interval, rank, args.init)
                if args.params:  # a variant of its own, which read keeps apart
                    row["variant"] += f", {json.dumps(args.params, sort_keys=True)}"
                    row["params"] = args.params
                print(json.dumps({"dataset": spec, **row}), flush=True)


if __name__ == "__main__":
    main()
