"""How alike one-hop and two-hop neighbours are, in features and in classes.

    python -m benchmarks.explore.hop_agreement dblp cora photo cs digits uat

SCGC*'s positives weight a node's neighbours by walks (``W = Â + Â²``), so what a hop
gives the loss is the walk-weighted agreement of its pairs, not the share of the pairs it
reaches. Per graph, with ``P = D⁻¹A`` (no self-loops) and ``P₂`` the two-step walks with
the walks back to the start taken out (rows renormalised), and ``x`` the unit rows of the
transformed features (``features="auto"``): the mean over nodes with an edge of
``x_i · (P x)_i`` (one hop) and ``x_i · (P₂ x)_i`` (two hops) against a random pair's
``x_i · mean(x)``, and the same with one-hot classes for ``x`` (the share of a hop's walk
weight that stays in the class). ``ratio``: two hops' excess over random against one hop's
(features), two hops' class share over one hop's (classes). One JSON line per graph;
``--tiny``: karate.
"""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from benchmarks._machine import TINY_DATASET, parse, script_parser
from benchmarks.bench_feature_homophily import auto_features
from graphclust import load_dataset


def walks(edge_index: np.ndarray, n: int) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """One-step and two-step (no return) walk matrices, and the nodes with an edge."""
    adjacency = sp.csr_matrix((np.ones(edge_index.shape[1]), tuple(edge_index)), shape=(n, n))
    degree = np.asarray(adjacency.sum(1)).ravel()
    one = sp.diags(1 / np.maximum(degree, 1)) @ adjacency
    two = one @ one
    two = two - sp.diags(two.diagonal())
    weight = np.asarray(two.sum(1)).ravel()
    two = sp.diags(np.divide(1, weight, out=np.zeros_like(weight), where=weight > 0)) @ two
    return one, two, degree > 0


def agreement(rows: np.ndarray, one, two, linked: np.ndarray) -> tuple[float, float]:
    return tuple(float(np.einsum("ij,ij->i", rows, hop @ rows)[linked].mean())
                 for hop in (one, two))


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None)
    parser.add_argument("data", nargs="+")
    args = parse(parser, argv, "benchmarks.explore.hop_agreement")
    for name in [TINY_DATASET] if args.tiny else args.data:
        graph = load_dataset(name, root=args.root)
        x = auto_features(graph).transform(graph.x)
        x = F.normalize((x.to_dense() if x.layout != torch.strided else x).double(), dim=1)
        x = x.numpy()
        one, two, linked = walks(graph.edge_index.numpy(), graph.num_nodes)
        random_pair = float((x @ x.mean(0))[linked].mean())
        feature_one, feature_two = agreement(x, one, two, linked)
        y = graph.y.numpy()
        class_one, class_two = agreement(np.eye(y.max() + 1)[y], one, two, linked)
        print(json.dumps({
            "data": name, "features": {
                "random": round(random_pair, 3), "one_hop": round(feature_one, 3),
                "two_hops": round(feature_two, 3),
                "ratio": round((feature_two - random_pair) / (feature_one - random_pair), 3)},
            "classes": {"one_hop": round(class_one, 3), "two_hops": round(class_two, 3),
                        "ratio": round(class_two / class_one, 3)}}), flush=True)


if __name__ == "__main__":
    main()
