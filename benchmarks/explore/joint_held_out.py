"""Does the joint stage's erosion show on edges it never saw? A probe for a joint-stage rule.

    python -m benchmarks.explore.joint_held_out GRAPH [--seeds 2] [--every 5]

A share ``--holdout`` (0.1) of GRAPH's edges is set aside before the fit
(:class:`graphclust.objectives.HeldOutEdges`, seeded apart from the fit); SCGC* with its
defaults then trains on the rest, start and joint stage alike (its own start holds out a
share of those). Every ``--every`` joint-stage epochs, and at the first and last, the
probe records the epoch's partition's ACC / NMI (read from the loop's per-epoch scores;
never used by the fit) beside the set-aside edges' held-out loss and rank share of the
encoder's embedding at that epoch (``HeldOutEdges.scores``). If the rank share rose
where ACC falls (the joint stage eroding, as on Cora's 2,000-node sample) and not where
it climbs (CS's and Cora's 1,500-node samples), it could stop the joint stage without
labels. GRAPH as ``explore.fits`` reads it (``cora:2000``: a random sample). One JSON
line per seed; ``--tiny``: karate, a few epochs.
"""

from __future__ import annotations

import json
from unittest.mock import patch

import torch

import graphclust.estimators.contrastive as estimator_module
import graphclust.training.loop as training_loop
from benchmarks._machine import TINY_DATASET, fit_params, parse, script_parser
from benchmarks.explore._graphs import load_graph
from graphclust import SCGCStar
from graphclust.objectives import HeldOutEdges

# Apart from the fits' seeds, so that the set-aside edges are one draw for every seed.
SPLIT_SEED = 12345


def joint_held_out(graph, seed: int, holdout: float, every: int, params: dict) -> dict:
    """One fit on ``graph`` less its set-aside edges; its joint stage's epochs read."""
    n_clusters = int(graph.y.max()) + 1
    held = HeldOutEdges(graph.edge_index, graph.num_nodes, holdout, tau=1.0,
                        generator=torch.Generator().manual_seed(SPLIT_SEED))
    trained_on = graph.clone()
    trained_on.edge_index = held.train_edge_index
    live, epochs = {}, []

    def recording_run(encoder, head, decoder, run, **rest):
        live["run"] = run
        return train(encoder, head, decoder, run, **rest)

    def recording_step(encoder, optimizer, loss):
        live["encoder"] = encoder
        return step(encoder, optimizer, loss)

    def scored(truth, predicted):
        scores = score(truth, predicted)
        encoder, x = live["encoder"], live["run"].inputs.x
        with torch.no_grad():
            z = training_loop.encode_all(encoder, x, None)[held.nodes]
        loss, rank = held.scores(z)
        epochs.append([round(scores["acc"], 4), round(scores["nmi"], 4), round(loss, 5),
                       round(rank, 5)])
        return scores

    train, step, score = (estimator_module.train_clusterer, training_loop.optimizer_step,
                          training_loop.evaluate)
    with patch.object(estimator_module, "train_clusterer", recording_run), \
            patch.multiple(training_loop, optimizer_step=recording_step, evaluate=scored):
        fitted = SCGCStar(n_clusters, random_state=seed, **params).fit(trained_on)
    shown = sorted({*range(0, len(epochs), every), len(epochs) - 1}) if epochs else []
    return {"seed": seed, "start_length": fitted.start_length_, "epochs": len(epochs),
            "held_out_pairs": len(held),
            "epoch_acc_nmi_heldloss_heldrank": [[i + 1, *epochs[i]] for i in shown]}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=2)
    parser.add_argument("graph", nargs="?", default=TINY_DATASET,
                        help="a data set, name:N (a random sample) or table:NAME")
    parser.add_argument("--holdout", type=float, default=0.1,
                        help="share of the edges set aside (default %(default)s)")
    parser.add_argument("--every", type=int, default=5,
                        help="record every this many epochs (default %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.joint_held_out")
    spec = TINY_DATASET if args.tiny else args.graph
    graph = load_graph(spec, args.root)
    for seed in range(args.seeds):
        row = joint_held_out(graph, seed, args.holdout, args.every, fit_params(args))
        print(json.dumps({"graph": spec, "holdout": args.holdout, **row}), flush=True)


if __name__ == "__main__":
    main()
