"""How the principal directions that ``--init clusters`` begins at fall across the classes.

    python -m benchmarks.explore.principal_classes cs cs:4000 dblp:2000 cora photo

Per graph (a data set, or ``name:N`` as the explore scripts' ``record`` takes it), the
top 32 (SCGC*'s ``embedding_dim``) principal directions of the features as its start
reads them (``features="auto"``; :func:`graphclust.data.principal.principal_directions`,
seed 0); ``explore.start_ridge --init clusters`` begins the map's first n_clusters
outputs at the first n_clusters of them. Per direction, two shares of the variance of
the nodes' coordinates along it, read from the labels: ``between``, the share between
the classes' means (eta squared; 1: the direction only sets classes apart), and
``within_largest``, the share within the largest class about that class's own mean
(:mod:`benchmarks.explore._directions`; near 1: only that class varies along it, a
direction that splits it); and one the graph gives without labels, ``edge_agreement``
(1 where linked nodes have equal coordinates). ``split`` lists the directions (counted from 0) over
:data:`~benchmarks.explore.start_ridge.SPLIT_SHARE`, which ``--init clusters-no-split``
passes over; ``agreement_between_correlation``, the correlation of the two over the 32.
``without_labels``: the same ``within_largest`` and ``split`` read from the largest
cluster of ``svd-kmeans`` at t = 0 and t = 2 (:data:`CLUSTERING_STEPS`, seed 0) in place
of the largest class: whether a partition made without labels finds the directions
that split a class. One JSON line per graph; ``--tiny``: karate.
"""

from __future__ import annotations

import json

import numpy as np

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.explore._directions import (
    between_class_share,
    coordinates_along,
    edge_agreement,
    largest_class_share,
)
from benchmarks.explore._graphs import load_graph
from benchmarks.explore.start_ridge import SPLIT_SHARE
from graphclust.data.principal import principal_directions
from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.svd_kmeans import SVDKMeans

DIRECTIONS = 32  # SCGC*'s embedding_dim
#: The propagation steps of the ``svd-kmeans`` partitions that stand in for the labels.
CLUSTERING_STEPS = (0, 2)


def _within_largest(coordinates: np.ndarray, groups: np.ndarray) -> dict:
    """Each direction's share of variance within the largest of ``groups`` (classes or
    clusters), and the directions over :data:`SPLIT_SHARE`."""
    share = largest_class_share(coordinates, groups)
    return {"within_largest": [round(float(v), 3) for v in share],
            "split": [int(i) for i in np.flatnonzero(share > SPLIT_SHARE)]}


def direction_shares(graph) -> dict:
    """The shares and edge agreement of each of ``graph``'s top principal directions."""
    labels = graph.y.numpy()
    x = FeatureTransform("auto").fit_graph(graph).transform(graph.x)
    directions = principal_directions(x, DIRECTIONS, 0)
    coordinates = coordinates_along(x, directions)
    between = between_class_share(coordinates, labels)
    agreement = edge_agreement(coordinates, graph.edge_index.numpy())
    without_labels = {
        str(steps): _within_largest(coordinates, SVDKMeans(
            int(labels.max()) + 1, propagation_steps=steps, random_state=0).fit_predict(graph))
        for steps in CLUSTERING_STEPS}
    return {"nodes": len(labels), "classes": int(labels.max()) + 1,
            "largest_class": round(float(np.bincount(labels).max() / len(labels)), 3),
            "between": [round(float(v), 3) for v in between],
            **_within_largest(coordinates, labels),
            "edge_agreement": [round(float(v), 3) for v in agreement],
            "agreement_between_correlation": round(float(np.corrcoef(agreement,
                                                                     between)[0, 1]), 3),
            "without_labels": without_labels}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None)
    parser.add_argument("data", nargs="+")
    args = parse(parser, argv, "benchmarks.explore.principal_classes")
    for spec in [TINY_DATASET] if args.tiny else args.data:
        print(json.dumps({"graph": spec, **direction_shares(load_graph(spec, args.root))}),
              flush=True)


if __name__ == "__main__":
    main()
